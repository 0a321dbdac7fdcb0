// Live parts of Shu-Kang: the notification bell and toasts, and new answers
// and replies appearing on an open question. Pages work without this file.
// Every socket reconnects with backoff; the notification socket asks for
// everything it missed ("since") each time it opens, so nothing is lost.
// A socket the server closed for good (signed out 4401, not allowed 4403,
// gone 4404) stays closed: a reconnect would be refused the same way.

const CLOSED_FOR_GOOD = new Set([4401, 4403, 4404]);

function socketUrl(path) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${path}`;
}

class LiveSocket {
  constructor(path, { onOpen = () => {}, onMessage = () => {}, onStop = () => {} } = {}) {
    this.path = path;
    this.onOpen = onOpen;
    this.onMessage = onMessage;
    this.onStop = onStop;
    this.attempt = 0;
    this.timer = null;
    this.stopped = false;
    window.addEventListener("offline", () => this.socket?.close());
    window.addEventListener("online", () => this.reconnectNow());
    this.connect();
  }

  connect() {
    if (this.stopped) return;
    const socket = new WebSocket(socketUrl(this.path));
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.onOpen(this);
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      this.onMessage(message, this);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      if (CLOSED_FOR_GOOD.has(event.code)) {
        this.stopped = true; // signed out or not allowed: retrying cannot help
        clearTimeout(this.timer);
        this.onStop(event.code);
        return;
      }
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    clearTimeout(this.timer);
    // Exponential backoff with jitter, capped at 30 s, so a restarted server
    // is not met by every browser at once.
    const delay = Math.min(30000, 500 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt += 1;
    this.timer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.stopped || this.socket?.readyState === WebSocket.OPEN) return;
    clearTimeout(this.timer);
    this.attempt = 0;
    this.connect();
  }

  send(message) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }
}

const toasts = document.querySelector("[data-toasts]");
// Posts already announced on this page ("answer-12"): an answer on an open
// question reaches the asker twice, as a notification and on the question's
// socket, and is worth one toast.
const announced = new Set();

function postKey(url) {
  try {
    return new URL(url, window.location.href).hash.slice(1);
  } catch {
    return "";
  }
}

function toastOnce(key, text, url) {
  if (key) {
    if (announced.has(key)) return;
    announced.add(key);
  }
  toast(text, url);
}

function toast(text, url) {
  if (!toasts) return;
  const item = document.createElement(url ? "a" : "p");
  item.className = "toast";
  item.textContent = text;
  if (url) item.href = url;
  toasts.append(item);
  setTimeout(() => item.remove(), 8000);
}

function startNotifications(bell) {
  const count = bell.querySelector("[data-unread]");
  let lastSeen = Number(bell.dataset.lastId || 0);
  const shown = new Set();

  const setUnread = (unread) => {
    count.textContent = String(unread);
    count.classList.toggle("is-zero", unread === 0);
  };

  new LiveSocket(bell.dataset.ws, {
    onMessage(message, socket) {
      if (message.type === "hello") {
        setUnread(message.unread);
        // Catch up on whatever arrived since this page was rendered or since
        // the socket last dropped.
        if (message.last_id > lastSeen) socket.send({ type: "since", id: lastSeen });
      } else if (message.type === "notification") {
        setUnread(message.unread);
        if (message.id > lastSeen) lastSeen = message.id;
        if (shown.has(message.id)) return;
        shown.add(message.id);
        // A new answer or reply may also arrive on this page's question socket.
        const isPost = message.verb === "answer" || message.verb === "reply";
        toastOnce(isPost ? postKey(message.url) : "", message.text, message.url);
        document.dispatchEvent(new CustomEvent("shukang:notification", { detail: message }));
      } else if (message.type === "read") {
        setUnread(message.unread);
      }
    },
  });
}

// A new post as this reader would see it after a reload: a signed-in page
// asks for it in its own session (the asker's Accept, members' Thank, Reply
// and Flag); a visitor's page uses the copy in the message, rendered for
// visitors. Null when the post is no longer there for this reader.
async function postHtml(section, message) {
  if (!("ownFragments" in section.dataset) || !message.fragment) return message.html;
  try {
    const response = await fetch(message.fragment, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    });
    if (response.status === 404) return null;
    if (response.ok) return await response.text();
  } catch {
    // Offline for a moment: the visitors' copy now, the full one on reload.
  }
  return message.html;
}

function answerCount(section) {
  const heading = section.querySelector("#answers-title");
  if (!heading) return;
  const count = section.querySelectorAll("article.answer").length;
  const lang = document.documentElement.lang || "en";
  let rule = "other";
  try {
    rule = new Intl.PluralRules(lang).select(count);
  } catch {
    // An unknown language tag: the general form.
  }
  const form = (rule === "one" && heading.dataset.countOne) || heading.dataset.countOther;
  if (form) heading.textContent = form.replace("%(counter)s", String(count));
}

function startQuestion(section) {
  const questionId = section.dataset.question;
  new LiveSocket(`/ws/questions/${questionId}/`, {
    onStop() {
      // The page stays as it is; say once that it no longer updates by itself.
      if (!section.dataset.stoppedText || section.querySelector("[data-live-stopped]")) return;
      const notice = document.createElement("p");
      notice.className = "notice";
      notice.setAttribute("role", "status");
      notice.dataset.liveStopped = "";
      notice.textContent = section.dataset.stoppedText;
      section.querySelector("h2")?.after(notice);
    },
    async onMessage(message) {
      if (message.type !== "answer" && message.type !== "reply") return;
      const anchor = `${message.type}-${message.id}`;
      if (document.getElementById(anchor)) return;
      const html = await postHtml(section, message);
      // Another message may have brought it meanwhile.
      if (!html || document.getElementById(anchor)) return;
      if (message.type === "answer") {
        section.querySelector("[data-empty-answers]")?.remove();
        section.insertAdjacentHTML("beforeend", html);
        answerCount(section);
      } else {
        const key = message.answer ? `answer-${message.answer}` : "question";
        const list = document.querySelector(`[data-replies-for="${key}"]`);
        if (!list) return;
        list.insertAdjacentHTML("beforeend", html);
      }
      document.getElementById(anchor)?.classList.add("is-new");
      toastOnce(anchor, `${message.author}: ${section.dataset.newText || "+1"}`);
    },
  });
}

// The moderation queue says so when new items arrive.
const queueNotice = document.querySelector("[data-queue-live]");
if (queueNotice) {
  document.addEventListener("shukang:notification", (event) => {
    if (event.detail.verb === "queue_item") queueNotice.hidden = false;
  });
}

const bell = document.getElementById("notification-bell");
if (bell?.dataset.ws) startNotifications(bell);

const answers = document.querySelector("section.answers[data-question]");
if (answers) startQuestion(answers);
