// Images being made safe: each asks the server where it stands until the
// worker has finished, then shows the result in place. Without this file the
// page says "being made safe" until it is reloaded. The card's HTML comes from
// the server (attachments:status), rendered for this reader's session.
(() => {
  const FIRST_MS = 1500;
  const MAX_MS = 10_000;

  function watch(card) {
    let wait = FIRST_MS;
    const url = card.dataset.statusUrl;
    async function check() {
      try {
        const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
        if (response.status === 404) return; // deleted meanwhile
        if (response.ok) {
          const status = await response.json();
          if (status.settled && status.html) {
            const holder = document.createElement("template");
            holder.innerHTML = status.html.trim();
            const fresh = holder.content.firstElementChild;
            if (fresh) card.replaceWith(fresh);
            return;
          }
        }
      } catch {
        // Offline for a moment: try again later.
      }
      wait = Math.min(wait * 1.5, MAX_MS);
      setTimeout(check, wait);
    }
    setTimeout(check, wait);
  }

  document.querySelectorAll(".attachment[data-status-url]").forEach(watch);
})();
