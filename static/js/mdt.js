// An open MDT case page: other physicians' opinions and the consensus appear without reloading.
// Without this file the page still works: every form posts and the page reloads.
(() => {
  "use strict";

  const root = document.querySelector("[data-mdt-case]");
  if (!root) return;
  const status = root.querySelector("[data-live-status]");

  function announce(text) {
    if (status) status.textContent = text || "";
  }

  function fromHtml(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function markGiven(slugs) {
    const given = new Set(slugs || []);
    root.querySelectorAll("[data-discipline]").forEach((item) => {
      const has = given.has(item.dataset.discipline);
      item.classList.toggle("is-given", has);
      const mark = item.querySelector("[data-given-mark]");
      if (mark) mark.textContent = has ? (root.dataset.givenText || "✓") : (root.dataset.waitingText || "");
    });
  }

  function freeze() {
    root.querySelectorAll("[data-mdt-editable]").forEach((item) => item.remove());
    const badge = root.querySelector("[data-stage-badge]");
    if (badge && badge.dataset.finalStageText) badge.textContent = badge.dataset.finalStageText;
    const notice = root.querySelector("[data-frozen-notice]");
    if (notice) notice.hidden = false;
  }

  const handlers = {
    opinion(message) {
      const item = fromHtml(message.html);
      if (!item) return;
      const old = document.getElementById(item.id);
      if (old) {
        old.replaceWith(item);
      } else {
        const list = root.querySelector("[data-opinions]");
        if (!list) return;
        list.appendChild(item);
        const empty = root.querySelector("[data-opinions-empty]");
        if (empty) empty.hidden = true;
      }
      item.classList.add("is-new");
      markGiven(message.disciplines);
      announce(root.dataset.newOpinionText);
    },
    consensus(message) {
      const item = fromHtml(message.html);
      const old = root.querySelector("[data-consensus]");
      if (!item || !old) return;
      old.replaceWith(item);
      item.classList.add("is-new");
      if (message.final) freeze();
      announce(message.final ? root.dataset.finalText : root.dataset.draftText);
    },
  };

  // After a reconnect, the opinions and the consensus are fetched afresh.
  async function refresh() {
    try {
      const response = await fetch(window.location.pathname, { credentials: "same-origin" });
      if (!response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      ["[data-opinions]", "[data-consensus]", "[data-disciplines]"].forEach((selector) => {
        const fresh = page.querySelector(selector);
        const current = root.querySelector(selector);
        if (fresh && current) current.replaceWith(document.importNode(fresh, true));
      });
      if (page.querySelector("[data-frozen-notice]:not([hidden])")) freeze();
    } catch (_failure) {
      // The next reconnect tries again.
    }
  }

  let attempts = 0;
  let connectedBefore = false;

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}${root.dataset.socketPath}`);
    socket.addEventListener("open", () => {
      attempts = 0;
      root.dataset.live = "connected";
      if (connectedBefore) refresh();
      connectedBefore = true;
    });
    socket.addEventListener("message", (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch (_ignored) { return; }
      const handler = handlers[message.type];
      if (handler) handler(message);
    });
    socket.addEventListener("close", (event) => {
      root.dataset.live = "closed";
      // Refused (signed out, or the case is no longer open to this person): do not knock again.
      if ([4401, 4403, 4404].includes(event.code)) {
        announce(event.code === 4401 ? root.dataset.signedOutText : root.dataset.closedText);
        root.querySelectorAll("[data-mdt-editable] button").forEach((button) => { button.disabled = true; });
        return;
      }
      attempts += 1;
      const delay = Math.min(30000, 1000 * 2 ** Math.min(attempts, 5)) * (0.5 + Math.random() / 2);
      window.setTimeout(connect, delay);
    });
  }

  connect();
})();
