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
        toast(message.text, message.url);
        document.dispatchEvent(new CustomEvent("shukang:notification", { detail: message }));
      } else if (message.type === "read") {
        setUnread(message.unread);
      }
    },
  });
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
    onMessage(message) {
      const anchor = `${message.type}-${message.id}`;
      if (document.getElementById(anchor)) return;
      if (message.type === "answer") {
        section.querySelector("[data-empty-answers]")?.remove();
        section.insertAdjacentHTML("beforeend", message.html);
      } else if (message.type === "reply") {
        const key = message.answer ? `answer-${message.answer}` : "question";
        document.querySelector(`[data-replies-for="${key}"]`)?.insertAdjacentHTML("beforeend", message.html);
      } else {
        return;
      }
      document.getElementById(anchor)?.classList.add("is-new");
      toast(`${message.author}: ${section.dataset.newText || "+1"}`);
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
