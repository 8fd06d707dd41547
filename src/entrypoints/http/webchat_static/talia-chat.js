/*
 * Talia's web chat widget. Embed it with
 *
 *   <script src="https://HOST/webchat/talia-chat.js" data-talia-base="https://HOST" defer></script>
 *
 * Optional attributes: data-talia-title (the panel's heading), data-talia-lang ("es" or
 * "en"; otherwise the page's <html lang>). Theme it from the page with CSS custom
 * properties on #talia-chat (see talia-chat.css).
 *
 * It draws a launcher and a chat panel inside a shadow root (the page's styles cannot
 * break it), keeps the session token in localStorage per base URL (a reload continues the
 * conversation), loads the history, keeps a socket open for live messages and reconnects
 * with backoff. What the visitor writes shows at once as "sending" and is matched to the
 * server's copy by its client_id; sending is retried with the same client_id, which the
 * server stores once. Text is only ever set with textContent. No requests leave HOST.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  if (!script || document.getElementById("talia-chat")) return;

  const base = (script.dataset.taliaBase || new URL(script.src).origin).replace(/\/+$/, "");
  const storageKey = `talia-chat:${base}`;
  const RETRIES = 5;
  const MAX_BACKOFF_MS = 30000;

  const STRINGS = {
    en: {
      title: "Chat with us",
      open: "Open chat",
      openUnread: (n) => `Open chat (${n} new ${n === 1 ? "message" : "messages"})`,
      close: "Close chat",
      messages: "Messages",
      label: "Message",
      placeholder: "Write a message…",
      send: "Send",
      sending: "Sending…",
      sent: "Sent",
      failed: "Not sent.",
      retry: "Retry",
      you: "You",
      assistant: "Assistant",
      agent: "Agent",
      offline: "Connection lost. Reconnecting…",
    },
    es: {
      title: "Escríbenos",
      open: "Abrir el chat",
      openUnread: (n) => `Abrir el chat (${n} ${n === 1 ? "mensaje nuevo" : "mensajes nuevos"})`,
      close: "Cerrar el chat",
      messages: "Mensajes",
      label: "Mensaje",
      placeholder: "Escribe un mensaje…",
      send: "Enviar",
      sending: "Enviando…",
      sent: "Enviado",
      failed: "No se envió.",
      retry: "Reintentar",
      you: "Tú",
      assistant: "Asistente",
      agent: "Agente",
      offline: "Se perdió la conexión. Reconectando…",
    },
  };
  const lang = (script.dataset.taliaLang || document.documentElement.lang || "en").slice(0, 2);
  const t = STRINGS[lang] || STRINGS.en;

  // --- the session --------------------------------------------------------------------

  function storedSession() {
    try {
      const session = JSON.parse(localStorage.getItem(storageKey) || "null");
      if (session && session.token && Date.parse(session.expires_at) > Date.now()) return session;
    } catch (_) {
      // unreadable or unavailable storage: start a new session
    }
    return null;
  }

  function storeSession(value) {
    try {
      if (value) localStorage.setItem(storageKey, JSON.stringify(value));
      else localStorage.removeItem(storageKey);
    } catch (_) {
      // private mode: the session lasts as long as the page
    }
  }

  let session = storedSession();
  let opening = null;

  function openSession() {
    if (session) return Promise.resolve(session);
    if (!opening) {
      opening = request("POST", "/api/webchat/sessions", {}, null)
        .then((body) => {
          session = { session_id: body.session_id, token: body.token, expires_at: body.expires_at };
          storeSession(session);
          connect();
          return session;
        })
        .finally(() => {
          opening = null;
        });
    }
    return opening;
  }

  function forgetSession() {
    session = null;
    storeSession(null);
    if (socket) {
      const old = socket;
      socket = null;
      old.close();
    }
  }

  class HttpError extends Error {
    constructor(status, detail) {
      super(detail || `HTTP ${status}`);
      this.status = status;
    }
  }

  async function request(method, path, body, token) {
    const headers = { Accept: "application/json" };
    if (body !== null) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(base + path, {
      method,
      headers,
      body: body === null ? undefined : JSON.stringify(body),
      credentials: "omit",
      mode: "cors",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new HttpError(response.status, data.detail);
    return data;
  }

  function uuid() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const backoff = (attempt) =>
    Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2);

  // --- the view -------------------------------------------------------------------------

  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    for (const child of children) node.append(child);
    return node;
  }

  function icon(path) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const shape = document.createElementNS(ns, "path");
    shape.setAttribute("d", path);
    svg.append(shape);
    return svg;
  }

  const host = el("div", { id: "talia-chat" });
  const root = host.attachShadow({ mode: "open" });
  const styles = el("link", { rel: "stylesheet", href: new URL("talia-chat.css", script.src).href });
  host.style.display = "none"; // until styled
  const reveal = () => host.style.removeProperty("display");
  styles.addEventListener("load", reveal);
  styles.addEventListener("error", reveal);
  root.append(styles);

  const launcher = el(
    "button",
    {
      type: "button",
      class: "launcher",
      "data-testid": "talia-launcher",
      "aria-label": t.open,
      "aria-expanded": "false",
      "aria-controls": "talia-panel",
    },
    icon("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"),
  );
  const badge = el("span", { class: "badge", "aria-hidden": "true", hidden: "" });
  launcher.append(badge);

  const titleId = "talia-title";
  const closeButton = el(
    "button",
    { type: "button", class: "close", "data-testid": "talia-close", "aria-label": t.close },
    icon("M6 6l12 12M18 6L6 18"),
  );
  const status = el("p", { class: "status", role: "status", "data-testid": "talia-status" });
  const list = el("ol", {
    class: "messages",
    "data-testid": "talia-messages",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-label": t.messages,
    tabindex: "0",
  });
  const input = el("textarea", {
    id: "talia-input",
    class: "input",
    "data-testid": "talia-input",
    rows: "1",
    maxlength: "4096",
    placeholder: t.placeholder,
    autocomplete: "off",
  });
  const sendButton = el(
    "button",
    { type: "submit", class: "send", "data-testid": "talia-send", "aria-label": t.send },
    icon("M3 20l18-8L3 4v6l12 2-12 2z"),
  );
  const form = el(
    "form",
    { class: "composer" },
    el("label", { for: "talia-input", class: "visually-hidden" }, t.label),
    input,
    sendButton,
  );
  const panel = el(
    "section",
    {
      id: "talia-panel",
      class: "panel",
      role: "dialog",
      "aria-labelledby": titleId,
      "data-testid": "talia-panel",
      hidden: "",
    },
    el("header", {}, el("h2", { id: titleId }, script.dataset.taliaTitle || t.title), closeButton),
    status,
    list,
    form,
  );
  root.append(panel, launcher);

  let unread = 0;

  function setUnread(count) {
    unread = count;
    badge.textContent = String(count);
    badge.hidden = count === 0;
    launcher.setAttribute("aria-label", count ? t.openUnread(count) : t.open);
  }

  function isOpen() {
    return !panel.hidden;
  }

  function openPanel() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    setUnread(0);
    scrollToEnd();
    input.focus();
  }

  function closePanel() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  function showStatus(text) {
    status.textContent = text || "";
  }

  function scrollToEnd() {
    list.scrollTop = list.scrollHeight;
  }

  // --- messages ---------------------------------------------------------------------------

  const byId = new Map(); // server id -> <li>
  const byClientId = new Map(); // client_id -> <li>

  const authorName = { contact: t.you, bot: t.assistant, agent: t.agent };

  function messageItem(author, text, time) {
    const body = el("p", { class: "text" });
    body.textContent = text || "";
    const stamp = el("time", { class: "time" });
    const meta = el("span", { class: "meta" }, stamp);
    const li = el(
      "li",
      { class: "message", "data-author": author, "data-testid": "talia-message" },
      el("span", { class: "visually-hidden" }, `${authorName[author] || author}: `),
      body,
      meta,
    );
    setTime(li, time);
    return li;
  }

  function setTime(li, iso) {
    const when = new Date(iso);
    li.dataset.time = String(when.getTime());
    const stamp = li.querySelector("time");
    stamp.dateTime = when.toISOString();
    stamp.textContent = when.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
  }

  /** The server's status ("received", "sent"...), or one of the widget's own while it
   * sends: "sending", "accepted" (the server has it), "failed" (with a retry button). */
  function setState(li, state, onRetry) {
    li.dataset.status = state;
    const meta = li.querySelector(".meta");
    for (const old of meta.querySelectorAll(".state")) old.remove();
    let note = null;
    if (state === "sending") note = el("span", { class: "state" }, t.sending);
    else if (state === "accepted") note = el("span", { class: "state" }, t.sent);
    else if (state === "failed" && onRetry) {
      const retry = el("button", { type: "button", class: "retry" }, t.retry);
      retry.addEventListener("click", onRetry);
      note = el("span", { class: "state" }, `${t.failed} `, retry);
    }
    if (note) meta.append(note);
  }

  /** Insert in time order (the list is nearly always appended to). */
  function place(li) {
    const time = Number(li.dataset.time);
    let after = list.lastElementChild;
    while (after && Number(after.dataset.time) > time) after = after.previousElementSibling;
    if (after) after.after(li);
    else list.prepend(li);
  }

  /** The bot's answer as it is written, until the answer itself arrives. Screen readers
   * skip it: they announce the answer once, whole. */
  let draft = null;

  function showDraft(text) {
    if (!draft) {
      draft = messageItem("bot-draft", "", new Date().toISOString());
      draft.setAttribute("data-testid", "talia-draft");
      draft.setAttribute("aria-hidden", "true");
      draft.classList.add("draft");
      list.append(draft);
    }
    draft.querySelector(".text").textContent += text;
    scrollToEnd();
  }

  function clearDraft() {
    if (draft) draft.remove();
    draft = null;
  }

  /** A message from the server (a frame or a history item): new, or one already shown. */
  function show(message, live) {
    if (message.author !== "contact") clearDraft();
    let li = byId.get(message.id) || (message.client_id && byClientId.get(message.client_id));
    if (!li) {
      li = messageItem(message.author, message.text, message.created_at);
      place(li);
      if (live && message.author !== "contact" && !isOpen()) setUnread(unread + 1);
    }
    li.dataset.id = message.id;
    byId.set(message.id, li);
    if (message.client_id) {
      li.dataset.clientId = message.client_id;
      byClientId.set(message.client_id, li);
    }
    setTime(li, message.created_at);
    setState(li, message.status);
    scrollToEnd();
  }

  // --- sending ----------------------------------------------------------------------------

  async function deliver(clientId, text) {
    const li = byClientId.get(clientId);
    setState(li, "sending");
    for (let attempt = 0; ; attempt++) {
      try {
        const current = await openSession();
        await request("POST", "/api/webchat/messages", { text, client_id: clientId }, current.token);
        if (!li.dataset.id) setState(li, "accepted"); // unless the server's copy came first
        return;
      } catch (error) {
        if (error instanceof HttpError && error.status === 401 && attempt === 0) {
          forgetSession(); // expired: the next attempt opens a new session
          continue;
        }
        const permanent =
          error instanceof HttpError && error.status >= 400 && error.status < 500 &&
          error.status !== 408 && error.status !== 429;
        if (permanent || attempt >= RETRIES) {
          setState(li, "failed", () => deliver(clientId, text));
          if (permanent) showStatus(error.message);
          return;
        }
        await sleep(backoff(attempt));
      }
    }
  }

  function submit() {
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    showStatus("");
    const clientId = uuid();
    const li = messageItem("contact", text, new Date().toISOString());
    li.dataset.clientId = clientId;
    byClientId.set(clientId, li);
    list.append(li);
    scrollToEnd();
    deliver(clientId, text);
    input.focus();
  }

  // --- the socket -------------------------------------------------------------------------

  let socket = null;
  let attempts = 0;
  let reconnectTimer = null;

  function connect() {
    if (!session || socket) return;
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    const url = new URL(`${base}/api/webchat/ws`);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("token", session.token);
    const ws = new WebSocket(url.href);
    socket = ws;
    ws.addEventListener("open", () => {
      attempts = 0;
      showStatus("");
      loadHistory();
    });
    ws.addEventListener("message", (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch (_) {
        return;
      }
      if (data.type === "message" && data.message) show(data.message, true);
      else if (data.type === "draft") showDraft(String(data.text || ""));
      else if (data.type === "error") showStatus(String(data.detail || ""));
    });
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      socket = null;
      if (event.code === 4401) {
        forgetSession(); // a new session opens when the visitor writes again
        return;
      }
      showStatus(t.offline);
      reconnectTimer = setTimeout(connect, backoff(attempts++));
    });
  }

  async function loadHistory() {
    if (!session) return;
    try {
      const body = await request("GET", "/api/webchat/messages", null, session.token);
      for (const message of body.items || []) show(message, false);
    } catch (error) {
      if (error instanceof HttpError && error.status === 401) forgetSession();
    }
  }

  function reconnectNow() {
    if (session && !socket) {
      attempts = 0;
      connect();
    }
  }

  // --- wiring -----------------------------------------------------------------------------

  launcher.addEventListener("click", () => (isOpen() ? closePanel() : openPanel()));
  closeButton.addEventListener("click", closePanel);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closePanel();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") reconnectNow();
  });

  function start() {
    document.body.append(host);
    connect();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
