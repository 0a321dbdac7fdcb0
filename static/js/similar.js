// Similar questions under the title field of the ask form, as the title is typed.
// Without this file the form works as before; the list is never shown. Every
// word shown comes from the page (data-* attributes, in the reader's language).
(() => {
  const DELAY_MS = 300; // after the last key press
  const MIN_LENGTH = 4; // forum/similar.py MIN_TITLE
  const PAUSE_AFTER_LIMIT_MS = 30_000;

  function pluralText(section, stem, count) {
    const lang = document.documentElement.lang || "en";
    let rule = "other";
    try {
      rule = new Intl.PluralRules(lang).select(count);
    } catch {
      // An unknown language tag: the general form.
    }
    const one = section.dataset[`${stem}One`];
    const other = section.dataset[`${stem}Other`];
    return ((rule === "one" && one) || other).replace("%(counter)s", String(count));
  }

  function item(section, question) {
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.href = question.url;
    // A new tab keeps the draft on this page.
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = question.title;
    const hint = document.createElement("span");
    hint.className = "visually-hidden";
    hint.textContent = ` ${section.dataset.newTab}`;
    link.append(hint);
    const meta = document.createElement("span");
    meta.className = "similar-meta";
    if (question.accepted) {
      const badge = document.createElement("span");
      badge.className = "badge badge-accepted";
      badge.textContent = `✓ ${section.dataset.accepted}`;
      meta.append(badge, " ");
    } else if (question.answers > 0) {
      const badge = document.createElement("span");
      badge.className = "badge badge-answered";
      badge.textContent = section.dataset.answered;
      meta.append(badge, " ");
    }
    meta.append(
      question.answers > 0
        ? pluralText(section, "answers", question.answers)
        : section.dataset.unanswered,
    );
    li.append(link, " ", meta);
    return li;
  }

  function start(section) {
    const input = document.getElementById("id_title");
    const status = document.getElementById("similar-questions-status");
    if (!input || !section.dataset.url) return;
    // Right under the title field, where the patient is looking.
    input.closest(".field")?.after(section);
    const list = section.querySelector(".similar-list");
    const seen = new Map(); // title -> results, for retyping and backspacing
    let timer = null;
    let controller = null;
    let pausedUntil = 0;
    let shownFor = null;

    function show(title, results) {
      if (title === shownFor) return;
      shownFor = title;
      list.replaceChildren(...results.map((question) => item(section, question)));
      section.hidden = results.length === 0;
      status.textContent = results.length ? pluralText(section, "found", results.length) : "";
    }

    async function lookUp(title) {
      if (seen.has(title)) {
        show(title, seen.get(title));
        return;
      }
      if (Date.now() < pausedUntil) return;
      controller?.abort();
      controller = new AbortController();
      let response;
      try {
        const url = `${section.dataset.url}?${new URLSearchParams({ title })}`;
        response = await fetch(url, {
          headers: { Accept: "application/json" },
          signal: controller.signal,
        });
      } catch {
        return; // offline, or aborted by the next key press: keep what is shown
      }
      if (response.status === 429) {
        pausedUntil = Date.now() + PAUSE_AFTER_LIMIT_MS;
        return;
      }
      if (!response.ok) return;
      let results;
      try {
        results = (await response.json()).results;
      } catch {
        return;
      }
      if (!Array.isArray(results)) return;
      seen.set(title, results);
      // Only if the title has not changed meanwhile.
      if (input.value.trim() === title) show(title, results);
    }

    input.setAttribute("autocomplete", "off");
    input.addEventListener("input", () => {
      clearTimeout(timer);
      const title = input.value.trim();
      if (title.length < MIN_LENGTH) {
        controller?.abort();
        show("", []);
        return;
      }
      timer = setTimeout(() => lookUp(title), DELAY_MS);
    });
    // A title kept by the browser, or by a refused form, is looked up at once.
    if (input.value.trim().length >= MIN_LENGTH) lookUp(input.value.trim());
  }

  document.addEventListener("DOMContentLoaded", () => {
    const section = document.getElementById("similar-questions");
    if (section) start(section);
  });
})();
