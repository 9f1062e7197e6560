// Web chat page script. One classic deferred script, no build step, kept
// to what the in-app browsers of older phones run (no modules, no ?. or ??).
//
// Safety rule of this file: every text from the server or the visitor goes
// into the page through textContent (or an attribute set from a checked
// value), never parsed as HTML, so HTML in a message is shown as text.

"use strict";

const root = document.getElementById("chat");
const base = root.dataset.base;
const maxUpload = Number(root.dataset.maxUpload);
const maxUploadText = root.dataset.maxUploadText;
const maxText = Number(root.dataset.maxText);
// T are the page's sentences, from the plan file (the server fills them in).
const T = JSON.parse(root.dataset.texts || "{}");

const log = document.getElementById("log");
const form = document.getElementById("composer");
const textEl = document.getElementById("text");
const fileEl = document.getElementById("file");
const sendBtn = document.getElementById("send");
const menu = document.getElementById("menu");

const MSG = {
  busy: T.web_busy,
  tooMany: T.web_too_many,
  expired: T.web_forbidden,
  network: T.web_network,
  uploadFailed: T.web_upload_failed,
  tooLong: T.web_too_long,
  tooLarge: T.web_too_large,
  imageGone: T.web_image_gone,
};

// FOLD_LINES: a message longer than this many lines (a checklist, the
// registration steps) shows its first FOLD_SHOW lines and a button to
// unfold it.
const FOLD_LINES = 10;
const FOLD_SHOW = 6;

let busy = false;

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === "regbot_chat_csrf") return v.join("=");
  }
  return "";
}

// newID returns a random per-message id (UUID v4 form). crypto.randomUUID
// needs a secure context; getRandomValues works on plain HTTP too.
function newID() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// safeHref accepts only http(s) links (never javascript: or data:).
function safeHref(raw) {
  try {
    const u = new URL(raw, location.href);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

function scrollToEnd() {
  log.scrollTop = log.scrollHeight;
}

// fill replaces {name} in a page text.
function fill(text, values) {
  return String(text || "").replace(/\{(\w+)\}/g, (all, k) => (k in values ? values[k] : all));
}

// textBlock shows a message's text; a long one is folded to its first
// lines with a button that unfolds it.
function textBlock(text) {
  const lines = text.split("\n");
  if (lines.length <= FOLD_LINES) return el("p", "text", text);
  const box = el("div", "fold");
  const p = el("p", "text", lines.slice(0, FOLD_SHOW).join("\n") + " …");
  const toggle = el("button", "unfold", T.web_expand);
  toggle.type = "button";
  toggle.setAttribute("aria-expanded", "false");
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    p.textContent = open ? text : lines.slice(0, FOLD_SHOW).join("\n") + " …";
    toggle.textContent = open ? T.web_collapse : T.web_expand;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
  box.append(p, toggle);
  return box;
}

// sameSite reports a link to this server (the material package): it is
// downloaded rather than opened.
function sameSite(href) {
  try {
    return new URL(href).origin === location.origin;
  } catch {
    return false;
  }
}

// render turns one message (as the API shows it) into a list item.
function render(m) {
  const li = el("li", `msg ${m.from === "user" ? "user" : "bot"}`);
  li.dataset.id = m.id === undefined ? "" : String(m.id);
  const bubble = el("div", "bubble");
  if (m.text) bubble.append(textBlock(m.text));
  if (m.upload) bubble.append(el("p", "upload-name", fill(T.web_upload_shown, { name: m.upload })));
  if (m.preview) {
    const img = el("img", "image");
    img.src = m.preview;
    img.alt = m.upload || T.web_image;
    img.addEventListener("load", scrollToEnd, { once: true });
    // A file named .jpg that is not a picture: no broken thumbnail, the
    // file's name above says what was sent.
    img.addEventListener("error", () => img.remove(), { once: true });
    bubble.append(img);
  }
  if (m.image) {
    const img = el("img", "image");
    img.src = m.image;
    img.alt = m.image_name || T.web_image;
    img.addEventListener("load", scrollToEnd, { once: true });
    const save = el("a", "download", T.web_download);
    save.href = m.image;
    save.setAttribute("download", m.image_name || "");
    img.addEventListener("error", () => {
      img.replaceWith(el("p", "text", MSG.imageGone));
      save.remove();
    }, { once: true });
    bubble.append(img, save);
  }
  if (m.link) {
    const href = safeHref(m.link.url);
    if (href) {
      const a = el("a", "link", m.link.label || m.link.url);
      a.href = href;
      a.rel = "noopener noreferrer";
      if (sameSite(href)) {
        a.classList.add("download");
        a.setAttribute("download", "");
      } else {
        a.target = "_blank";
      }
      bubble.append(a);
    } else {
      bubble.append(el("p", "text", `${m.link.label}：${m.link.url}`));
    }
  }
  li.append(bubble);
  if (m.choices && m.choices.length > 0) {
    // Numbered as the bot reads typed numbers (the number is drawn by the
    // stylesheet, so a button's text stays its label).
    const box = el("div", "choices");
    for (const [i, c] of m.choices.entries()) {
      const b = el("button", null, c.label);
      b.dataset.n = String(i + 1);
      b.type = "button";
      b.dataset.choice = c.id;
      b.addEventListener("click", () => sendChoice(c));
      box.append(b);
    }
    li.append(box);
  }
  return li;
}

function add(m) {
  const li = render(m);
  if (m.ask && m.ask.type) li.dataset.ask = m.ask.type;
  log.append(li);
  return li;
}

// HINTS adapt the input box to the question asked: the placeholder, and the
// keyboard a phone shows.
const HINTS = {
  number: [T.web_hint_number, "decimal"],
  month: [T.web_hint_month, "text"],
  date: [T.web_hint_date, "text"],
  mobile: [T.web_hint_mobile, "tel"],
  id_number: [T.web_hint_id_number, "text"],
  name: [T.web_hint_name, "text"],
  image: [T.web_hint_image, "text"],
};

// adaptInput follows the newest question after the visitor's last message.
function adaptInput() {
  let ask = "";
  for (const li of Array.from(log.children).reverse()) {
    if (li.classList.contains("user")) break;
    if (li.dataset.ask) {
      ask = li.dataset.ask;
      break;
    }
  }
  const [placeholder, mode] = HINTS[ask] || [T.web_placeholder, "text"];
  textEl.placeholder = placeholder;
  textEl.inputMode = mode;
  root.dataset.ask = ask;
}

function notice(text) {
  const li = el("li", "notice", text);
  li.setAttribute("role", "alert");
  log.append(li);
  scrollToEnd();
}

// refreshChoices enables the buttons of the bot messages after the
// visitor's last message, and disables older ones.
function refreshChoices() {
  let current = !busy;
  for (const li of Array.from(log.children).reverse()) {
    if (li.classList.contains("user")) current = false;
    for (const b of li.querySelectorAll(".choices button")) b.disabled = !current;
  }
}

function setBusy(on) {
  busy = on;
  root.dataset.busy = on ? "1" : "0";
  sendBtn.disabled = on;
  fileEl.disabled = on;
  for (const b of menu.querySelectorAll("button")) b.disabled = on;
  refreshChoices();
  adaptInput();
}

function statusMessage(status, upload) {
  switch (status) {
    case 403:
      return MSG.expired;
    case 413:
      return upload ? MSG.tooLarge : MSG.tooLong;
    case 429:
      return MSG.tooMany;
    default:
      return MSG.busy;
  }
}

// post sends one message or upload. userView is the visitor's own bubble,
// shown at once and marked as failed if the server refuses the message.
async function post(path, body, userView, upload) {
  if (busy) return false;
  const mine = userView ? add(userView) : null;
  setBusy(true);
  const typing = add({ from: "bot", text: "···" });
  typing.classList.add("typing");
  scrollToEnd();
  const headers = { "X-CSRF-Token": csrfToken() };
  if (!(body instanceof FormData)) headers["Content-Type"] = "application/json";
  let ok = false;
  try {
    const res = await fetch(`${base}${path}`, {
      method: "POST",
      headers,
      body: body instanceof FormData ? body : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    typing.remove();
    if (!res.ok) {
      notice((data && data.error) || statusMessage(res.status, upload));
    } else if (data && data.duplicate) {
      await loadHistory();
      ok = true;
    } else {
      for (const m of (data && data.messages) || []) add(m);
      ok = true;
    }
  } catch {
    typing.remove();
    notice(upload ? MSG.uploadFailed : MSG.network);
  } finally {
    if (!ok && mine) mine.classList.add("failed");
    setBusy(false);
    scrollToEnd();
  }
  return ok;
}

function sendChoice(c) {
  if (busy) return;
  post("/api/message", { msg_id: newID(), choice: c.id }, { from: "user", text: c.label });
}

async function sendText() {
  const text = textEl.value.trim();
  if (!text || busy) return;
  if ([...text].length > maxText) {
    notice(MSG.tooLong);
    return;
  }
  textEl.value = "";
  autosize();
  const ok = await post("/api/message", { msg_id: newID(), text }, { from: "user", text });
  if (!ok && textEl.value === "") {
    textEl.value = text;
    autosize();
  }
}

function sendFile(file) {
  if (!file || busy) return;
  if (file.size > maxUpload) {
    notice(MSG.tooLarge);
    return;
  }
  const body = new FormData();
  body.append("msg_id", newID());
  body.append("image", file, file.name);
  const preview = file.type.startsWith("image/") ? URL.createObjectURL(file) : null;
  post("/api/upload", body, { from: "user", upload: file.name || T.web_image, preview }, true);
}

async function loadHistory() {
  let data;
  try {
    const res = await fetch(`${base}/api/history`, { credentials: "same-origin", cache: "no-store" });
    data = await res.json();
    if (!res.ok) {
      notice((data && data.error) || statusMessage(res.status, false));
      return null;
    }
  } catch {
    notice(MSG.network);
    return null;
  }
  log.textContent = "";
  for (const m of data.messages) add(m);
  refreshChoices();
  adaptInput();
  scrollToEnd();
  return data.messages;
}

function autosize() {
  textEl.style.height = "auto";
  textEl.style.height = `${Math.min(textEl.scrollHeight + 2, 132)}px`;
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  sendText();
});
textEl.addEventListener("keydown", (e) => {
  // Enter sends; Shift+Enter is a new line; Enter that confirms an IME
  // composition (pinyin) is not a send.
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
    e.preventDefault();
    sendText();
  }
});
textEl.addEventListener("input", autosize);
// The fixed menu sends commands, whatever the conversation is at.
for (const b of menu.querySelectorAll("button")) {
  b.addEventListener("click", () => sendChoice({ id: b.dataset.command, label: b.textContent }));
}
fileEl.addEventListener("change", () => {
  const file = fileEl.files && fileEl.files[0];
  fileEl.value = "";
  sendFile(file);
});

// lastID is the id of the newest message shown.
function lastID() {
  let id = 0;
  for (const li of log.children) {
    const n = Number(li.dataset.id);
    if (n > id) id = n;
  }
  return id;
}

// POLL_MS is how often an open page asks for messages the bot sent later
// (a status notification, a staff reply).
const POLL_MS = 5000;

async function poll() {
  if (!busy && document.visibilityState === "visible") {
    try {
      const res = await fetch(`${base}/api/history?after=${lastID()}`, { credentials: "same-origin", cache: "no-store" });
      if (res.ok && !busy) {
        const data = await res.json();
        if (data.messages.length > 0) {
          for (const m of data.messages) add(m);
          refreshChoices();
          adaptInput();
          scrollToEnd();
        }
      }
    } catch {
      // Offline for a moment: the next poll tries again.
    }
  }
  setTimeout(poll, POLL_MS);
}

async function start() {
  const messages = await loadHistory();
  if (messages && messages.length === 0) {
    await post("/api/message", { msg_id: newID(), start: true }, null, false);
  }
  root.dataset.ready = "1";
  setTimeout(poll, POLL_MS);
}

start();
