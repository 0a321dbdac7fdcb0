// The live salon room: new questions, votes and answers appear without reloading.
// Without this file the room still works: every form posts and the page reloads.
(() => {
  "use strict";

  const room = document.querySelector("[data-salon-room]");
  if (!room) return;

  const status = room.querySelector("[data-live-status]");
  const openList = () => room.querySelector('[data-live-list="open"]');
  const answeredList = () => room.querySelector('[data-live-list="answered"]');

  function announce(text) {
    if (status) status.textContent = text;
  }

  function fromHtml(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  // Open questions: most votes first, then oldest first.
  function sortOpen() {
    const list = openList();
    if (!list) return;
    const items = Array.from(list.children);
    items.sort((a, b) =>
      (Number(b.dataset.votes) - Number(a.dataset.votes)) ||
      (Number(a.dataset.order) - Number(b.dataset.order)) ||
      (Number(a.dataset.question) - Number(b.dataset.question)));
    items.forEach((item) => list.appendChild(item));
    const empty = room.querySelector("[data-live-empty]");
    if (empty) empty.hidden = list.children.length > 0;
  }

  function find(id) {
    return document.getElementById(`live-question-${id}`);
  }

  function setVotes(id, votes, label) {
    const item = find(id);
    if (!item || Number(item.dataset.votes) > votes) return;
    item.dataset.votes = String(votes);
    const count = item.querySelector("[data-vote-count]");
    if (count && label) count.textContent = label;
    sortOpen();
  }

  function markVoted(id) {
    const item = find(id);
    const form = item && item.querySelector('[data-live-form="vote"]');
    if (!form) return;
    const done = document.createElement("span");
    done.className = "voted";
    done.textContent = room.dataset.votedText || "✓";
    form.replaceWith(done);
  }

  const handlers = {
    question(message) {
      if (find(message.id)) return;
      const item = fromHtml(message.html);
      if (!item) return;
      const list = openList();
      if (!list) return;
      list.appendChild(item);
      sortOpen();
      bindForms(item);
      announce(room.dataset.newQuestionText || "");
    },
    vote(message) {
      setVotes(message.id, message.votes, message.votes_label);
    },
    answered(message) {
      const item = fromHtml(message.html);
      const list = answeredList();
      if (!item || !list) return;
      const old = find(message.id);
      if (old) old.remove();
      list.insertBefore(item, list.firstChild);
      bindForms(item);
      sortOpen();
    },
  };

  // Forms post with fetch when the script runs; the server answers JSON.
  function csrfToken() {
    const field = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return field ? field.value : "";
  }

  async function submit(form, event) {
    event.preventDefault();
    const kind = form.dataset.liveForm;
    const button = form.querySelector('button[type="submit"]');
    const error = form.querySelector("[data-live-error]");
    if (button) button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrfToken(), Accept: "application/json" },
      });
      let data = {};
      try { data = await response.json(); } catch (_ignored) { data = {}; }
      if (!response.ok || !data.ok) {
        const text = data.error || room.dataset.errorText || "";
        if (error) { error.textContent = text; error.hidden = false; } else { announce(text); }
        return;
      }
      if (error) { error.hidden = true; error.textContent = ""; }
      if (kind === "ask") {
        form.reset();
        announce(room.dataset.sentText || "");
        // The socket brings the question; if it is down, the list is fetched again.
        if (!socketOpen) refresh();
      } else if (kind === "vote") {
        markVoted(data.id);
        setVotes(data.id, data.votes, data.votes_label);
      } else if (kind === "answered" && !socketOpen) {
        refresh();
      }
    } catch (_failure) {
      form.submit();
    } finally {
      if (button) button.disabled = stopped;
    }
  }

  function bindForms(scope) {
    scope.querySelectorAll("form[data-live-form]").forEach((form) => {
      if (form.dataset.bound) return;
      form.dataset.bound = "1";
      // Fragments that arrived over the socket carry no token: they get the page's own.
      if (!form.querySelector('input[name="csrfmiddlewaretoken"]')) {
        const token = document.createElement("input");
        token.type = "hidden";
        token.name = "csrfmiddlewaretoken";
        token.value = csrfToken();
        form.prepend(token);
      }
      form.addEventListener("submit", (event) => submit(form, event));
    });
  }

  // After a reconnect, whatever was missed is fetched as a fresh list.
  async function refresh() {
    try {
      const response = await fetch(room.dataset.refreshUrl, { credentials: "same-origin" });
      if (!response.ok) return;
      const fresh = fromHtml(await response.text());
      const current = room.querySelector("[data-live-questions]");
      if (fresh && current) {
        current.replaceWith(fresh);
        bindForms(fresh);
      }
    } catch (_failure) {
      // The next reconnect tries again.
    }
  }

  let socketOpen = false;
  let attempts = 0;
  let connectedBefore = false;
  let stopped = false;

  // The server closed the room to this page for good: say so, and stop the
  // forms, whose posts would be refused the same way.
  function stop(code) {
    stopped = true;
    announce((code === 4401 ? room.dataset.signedOutText : room.dataset.closedText) || "");
    room.querySelectorAll("form[data-live-form] button").forEach((button) => {
      button.disabled = true;
    });
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}${room.dataset.socketPath}`);
    socket.addEventListener("open", () => {
      socketOpen = true;
      attempts = 0;
      room.dataset.live = "connected";
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
      socketOpen = false;
      room.dataset.live = "closed";
      // Refused (signed out, no place, unknown event): do not knock again.
      if ([4401, 4403, 4404].includes(event.code)) {
        stop(event.code);
        return;
      }
      attempts += 1;
      const delay = Math.min(30000, 1000 * 2 ** Math.min(attempts, 5)) * (0.5 + Math.random() / 2);
      window.setTimeout(connect, delay);
    });
  }

  bindForms(room);
  connect();
})();
