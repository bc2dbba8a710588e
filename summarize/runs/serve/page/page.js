// The page's only script: the form → POST /v1/summarize → the result, built with textContent only
// (server text is never parsed as HTML). No framework, nothing fetched from elsewhere.
"use strict";

const TOKEN_KEY = "summarize-token"; // sessionStorage: kept for this tab, gone when it closes
const URL_LINE = /^https?:\/\/\S+$/i;
const HTML_START = /^\s*(<!doctype html|<html[\s>])/i;

const $ = (id) => document.getElementById(id);
let fileKind = null; // "html" while the textarea holds an .html file as it was read
let targets = []; // the languages the server translates into (/v1/info "targets"), in its order
let sentTo = []; // the `to` of the last request: its summaries are shown in that order

// A language's name in English from its ISO 639-1 code (the browser's own table), else the code.
function languageName(code) {
  try {
    return new Intl.DisplayNames(["en"], { type: "language" }).of(code) || code;
  } catch (e) {
    return code;
  }
}

function oneLine(text) {
  return String(text).replace(/\s+/g, " ").trim();
}

function showAlert(message) {
  $("result").hidden = true; // the last article's summary must not stand under a new error
  const alert = $("alert");
  alert.textContent = oneLine(message);
  alert.hidden = false;
}

function clearAlert() {
  $("alert").hidden = true;
  $("alert").textContent = "";
}

// What the server is asked: {"url"}, {"html"} or {"text"}, with the chosen options.
function requestBody() {
  const value = $("article").value;
  const trimmed = value.trim();
  const options = { translate: $("translate").checked };
  if ($("length").value) options.length = $("length").value;
  const chosen = targets.filter((code) => $(`to-${code}`).checked);
  if (options.translate && chosen.length) options.to = chosen.join(",");
  sentTo = options.to ? chosen : [];
  if (options.translate && targets.length && !chosen.length) options.translate = false; // every language unticked: none
  if (URL_LINE.test(trimmed)) return { url: trimmed, options };
  if (fileKind === "html" || HTML_START.test(value)) return { html: value, options };
  return { text: value, options };
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    body = null;
  }
  const said = body && typeof body.error === "string" ? body.error : `HTTP ${response.status} ${response.statusText}`.trim();
  if (response.status === 401) {
    $("token-box").open = true;
    return `${said} (give the server's token in "Access token" below the options)`;
  }
  return said;
}

async function summarise() {
  clearAlert();
  if (!$("article").value.trim()) {
    showAlert("Nothing to summarise: paste an article, a web address or open a file first.");
    $("article").focus();
    return;
  }
  const headers = { "Content-Type": "application/json" };
  const token = $("token").value.trim();
  if (/[^\x21-\x7e]/.test(token)) {
    $("token-box").open = true;
    showAlert("The token holds characters an HTTP header cannot carry: give the token the server was started with.");
    return;
  }
  if (token) headers.Authorization = `Bearer ${token}`;
  setBusy(true);
  try {
    let response;
    try {
      response = await fetch("/v1/summarize", { method: "POST", headers, body: JSON.stringify(requestBody()) });
    } catch (e) {
      showAlert(`The server did not answer (${e.message || e}); is summarize serve still running?`);
      return;
    }
    if (!response.ok) {
      showAlert(await errorOf(response));
      return;
    }
    const result = await response.json();
    if (result.error) {
      showAlert(result.error);
      return;
    }
    showResult(result);
  } finally {
    setBusy(false);
  }
}

function setBusy(busy) {
  $("go").disabled = busy;
  $("request").setAttribute("aria-busy", busy ? "true" : "false");
  $("status").textContent = busy ? "Summarising…" : "";
}

function showResult(result) {
  $("result-title").textContent = result.title || "Summary";
  const flags = Array.isArray(result.unsupported) ? result.unsupported : [];
  fillHighlighted($("summary-ru"), result.summary_ru || "", flags.filter((f) => f.field === "summary_ru"));
  showTranslations(result, flags);
  const summaryName = (field) => (field === "summary_ru" ? "Russian" : languageName(field.replace("summary_", "")));
  fillList($("flags"), flags.map((f) => `${f.text} (${f.kind}, ${summaryName(f.field)} summary)`), "ru");
  $("flags-block").hidden = flags.length === 0;
  fillList($("warnings"), result.warnings || []);
  $("warnings-block").hidden = !(result.warnings || []).length;
  $("meta-model").textContent = result.model || `none (${result.engine || "?"} engine)`;
  $("meta-backend").textContent = result.backend || "none";
  $("meta-translator").textContent = (Array.isArray(result.translators) ? result.translators.join(", ") : result.translator) || "none";
  $("meta-seconds").textContent = typeof result.seconds === "number" ? result.seconds.toFixed(2) : "?";
  $("result").hidden = false;
  $("result-title").setAttribute("tabindex", "-1");
  $("result-title").focus();
}

// One block per translation the server returned (summary_<code> keys after summary_ru), in its order.
function showTranslations(result, flags) {
  const place = (key) => (sentTo.includes(key.slice(8)) ? sentTo.indexOf(key.slice(8)) : sentTo.length);
  const blocks = Object.keys(result)
    .filter((key) => /^summary_[a-z]{2}$/.test(key) && key !== "summary_ru" && typeof result[key] === "string" && result[key])
    .sort((a, b) => place(a) - place(b)) // stable: keys the request did not name keep the server's order
    .map((key) => {
      const code = key.replace("summary_", "");
      const block = document.createElement("div");
      block.id = `${code}-block`;
      const heading = document.createElement("h3");
      heading.id = `${code}-heading`;
      heading.textContent = `${languageName(code)} summary`;
      const text = document.createElement("p");
      text.id = `summary-${code}`;
      text.className = "summary";
      text.lang = code;
      text.setAttribute("aria-labelledby", heading.id);
      fillHighlighted(text, result[key], flags.filter((f) => f.field === key));
      block.replaceChildren(heading, text);
      return block;
    });
  $("translations").replaceChildren(...blocks);
}

// The target languages as ticks, from what the server loaded; none known: the one tick alone.
async function loadTargets() {
  let info = null;
  try {
    const token = $("token").value.trim();
    const response = await fetch("/v1/info", { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    info = response.ok ? await response.json() : null;
  } catch (e) {
    info = null;
  }
  targets = info && Array.isArray(info.targets) ? info.targets.filter((code) => /^[a-z]{2}$/.test(code)) : [];
  const ticks = targets.map((code) => {
    const box = document.createElement("span");
    box.className = "choice check";
    const input = document.createElement("input");
    input.type = "checkbox";
    input.id = `to-${code}`;
    input.value = code;
    input.checked = true;
    const label = document.createElement("label");
    label.htmlFor = input.id;
    label.textContent = `${languageName(code)} (${code})`;
    box.replaceChildren(input, label);
    return box;
  });
  $("targets").replaceChildren(...ticks);
  $("targets-box").hidden = targets.length === 0;
  $("translate-label").textContent = targets.length ? "Translate the summary into" : "Translation";
}

function fillList(list, lines, lang) {
  list.replaceChildren(
    ...lines.map((line) => {
      const item = document.createElement("li");
      if (lang) item.lang = lang;
      item.textContent = line;
      return item;
    }),
  );
}

// The summary as text nodes, each flagged span a <mark> around its own text node.
function fillHighlighted(element, text, flags) {
  const parts = [];
  let at = 0;
  for (const [start, end, flag] of flaggedRanges(text, flags)) {
    if (start > at) parts.push(document.createTextNode(text.slice(at, start)));
    const mark = document.createElement("mark");
    mark.className = `flag flag-${flag.kind}`;
    mark.title = `not in the article (${flag.kind})`;
    mark.textContent = text.slice(start, end);
    parts.push(mark);
    at = end;
  }
  if (at < text.length) parts.push(document.createTextNode(text.slice(at)));
  element.replaceChildren(...parts);
}

// Every occurrence of each flagged span, longest first where two overlap, in text order.
function flaggedRanges(text, flags) {
  const ranges = [];
  const byLength = [...flags].filter((f) => f && f.text).sort((a, b) => b.text.length - a.text.length);
  for (const flag of byLength) {
    for (let i = text.indexOf(flag.text); i !== -1; i = text.indexOf(flag.text, i + flag.text.length)) {
      const end = i + flag.text.length;
      if (!ranges.some(([s, e]) => i < e && s < end)) ranges.push([i, end, flag]);
    }
  }
  return ranges.sort((a, b) => a[0] - b[0]);
}

// A file read in the browser: .html sent as page HTML, anything else as text. Bytes that are not
// UTF-8 are read as windows-1251 (the older Russian encoding), and the note says so.
function readFile(file) {
  if (!file) return;
  const reader = new FileReader();
  reader.onerror = () => showAlert(`${file.name}: cannot read it (${reader.error && reader.error.message})`);
  reader.onload = () => {
    const html = /\.x?html?$/i.test(file.name) || file.type === "text/html";
    const [text, encoding] = decodeBytes(new Uint8Array(reader.result), html);
    $("article").value = text;
    fileKind = html ? "html" : null;
    const note = $("file-note");
    note.textContent = `${file.name}: read as ${html ? "page HTML" : "text"} (${encoding}); ${text.length} characters.`;
    note.hidden = false;
    clearAlert();
  };
  reader.readAsArrayBuffer(file);
}

function decodeBytes(bytes, html) {
  if (html) {
    const head = new TextDecoder("latin1").decode(bytes.slice(0, 2048));
    const named = /charset\s*=\s*["']?([\w-]+)/i.exec(head);
    if (named) {
      try {
        return [new TextDecoder(named[1]).decode(bytes), named[1].toLowerCase()];
      } catch (e) {
        // an unknown charset name: try UTF-8 below
      }
    }
  }
  try {
    return [new TextDecoder("utf-8", { fatal: true }).decode(bytes), "utf-8"];
  } catch (e) {
    return [new TextDecoder("windows-1251").decode(bytes), "not UTF-8: read as windows-1251"];
  }
}

function setUp() {
  loadTargets();
  const token = $("token");
  token.value = sessionStorage.getItem(TOKEN_KEY) || "";
  token.addEventListener("input", () => sessionStorage.setItem(TOKEN_KEY, token.value.trim()));
  $("request").addEventListener("submit", (event) => {
    event.preventDefault();
    summarise();
  });
  $("request").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      if (!$("go").disabled) summarise();
    }
  });
  $("article").addEventListener("input", () => {
    fileKind = null;
    $("file-note").hidden = true;
  });
  $("file").addEventListener("change", (event) => readFile(event.target.files[0]));
  const area = $("article");
  area.addEventListener("dragover", (event) => {
    event.preventDefault();
    area.classList.add("dropping");
  });
  area.addEventListener("dragleave", () => area.classList.remove("dropping"));
  area.addEventListener("drop", (event) => {
    event.preventDefault();
    area.classList.remove("dropping");
    readFile(event.dataTransfer.files[0]);
  });
}

document.addEventListener("DOMContentLoaded", setUp);
