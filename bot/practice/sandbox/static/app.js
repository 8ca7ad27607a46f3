// The practice sandbox's chat client. Vanilla JS, no build step, works offline.
// Everything the server sends is put on the page as text nodes (never innerHTML): the bot's
// formatting comes as Telegram entities and becomes <b>, <i>, <code>... elements here.
"use strict";

const state = { info: null, persona: null, shown: {}, busy: false, lastCadre: null };
const $ = (selector, root = document) => root.querySelector(selector);
const panels = { hub: $('[data-chat="hub"]'), org: $('[data-chat="org"]'), private: $('[data-chat="private"]') };

const ERRORS = {
  no_live_auction: "现在没有进行中的认领会：先用时钟跳到认领会开始 / no live auction: jump the clock to its start first",
  not_enough_cadres: "没有足够的其他单位团干部 / not enough cadres of other organisations",
  bad_size: "人数须为 1–200 / N must be 1–200",
  bad_pace: "每分钟次数须为 1–1200 / pace must be 1–1200 a minute",
  empty_text: "请输入要发送的文字 / type a message first",
  bad_location: "位置无效：纬度 -90–90，经度 -180–180，例如 28.2282 112.9388 / invalid location, e.g. 28.2282 112.9388",
  refused: "Telegram 不允许这样做 / Telegram would refuse this",
};

async function api(path, body) {
  const options = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" },
                                              body: JSON.stringify(body) };
  const response = await fetch(path, options);
  const data = await response.json();
  if (!data.ok) {
    toast((ERRORS[data.error] || data.error) + (data.detail ? " — " + data.detail : ""));
    throw new Error(data.error);
  }
  return data;
}

function toast(text) {
  const box = $("#toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

function alertBox(text) {
  $("#alert-text").textContent = text;
  $("#alert").hidden = false;
}
$("#alert-ok").addEventListener("click", () => { $("#alert").hidden = true; });

// ---- entities → DOM -----------------------------------------------------------------------------
const TAGS = { bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
               spoiler: "span", blockquote: "span", expandable_blockquote: "span", text_link: "a", url: "a" };

function renderText(text, entities) {
  const fragment = document.createDocumentFragment();
  if (!text) return fragment;
  const usable = (entities || []).filter((e) => TAGS[e.type]);
  const cuts = new Set([0, text.length]);
  for (const e of usable) { cuts.add(e.offset); cuts.add(e.offset + e.length); }
  const points = [...cuts].filter((p) => p >= 0 && p <= text.length).sort((a, b) => a - b);
  for (let k = 0; k < points.length - 1; k++) {
    const start = points[k], end = points[k + 1];
    const piece = text.slice(start, end);  // JS strings count UTF-16 units, like Telegram's offsets
    let node = document.createTextNode(piece);
    const active = usable.filter((e) => e.offset <= start && e.offset + e.length >= end)
                         .sort((a, b) => b.offset - a.offset || a.length - b.length);
    for (const e of active) {
      const element = document.createElement(TAGS[e.type]);
      if (e.type === "spoiler") {
        element.className = "spoiler";
        element.addEventListener("click", () => element.classList.add("shown"));
      }
      if (e.type.endsWith("blockquote")) element.className = "quote";
      if (e.type === "text_link" || e.type === "url") {
        const href = e.type === "url" ? text.slice(e.offset, e.offset + e.length) : e.url;
        if (/^https?:\/\//.test(href || "")) { element.href = href; element.target = "_blank"; element.rel = "noopener"; }
      }
      element.appendChild(node);
      node = element;
    }
    fragment.appendChild(node);
  }
  return fragment;
}

// ---- layout: one collapsible control bar and chat tabs on a phone --------------------------------
const phone = window.matchMedia("(max-width: 760px)");
function fitLayout() {
  $("#controls").open = !phone.matches;  // a wide screen shows every control; a phone starts folded
}
phone.addEventListener("change", fitLayout);
fitLayout();

function showChat(kind) {
  $(".chats").dataset.active = kind;
  for (const tab of document.querySelectorAll(".tabs [data-tab]")) {
    tab.setAttribute("aria-selected", String(tab.dataset.tab === kind));
    if (tab.dataset.tab === kind) tab.classList.remove("unread");
  }
}
for (const tab of document.querySelectorAll(".tabs [data-tab]")) {
  tab.addEventListener("click", () => showChat(tab.dataset.tab));
}
showChat($(".chats").dataset.active);

// ---- chats -------------------------------------------------------------------------------------
function chatId(kind) {
  if (kind === "private") return state.persona ? state.persona.user_id : null;
  return state.info ? state.info.chats[kind].id : null;
}

function messageNode(kind, message) {
  const node = document.createElement("div");
  node.className = "msg";
  node.dataset.id = message.id;
  if (!message.from_bot && state.persona && message.from_id === state.persona.user_id) node.classList.add("mine");
  const from = document.createElement("div");
  from.className = "from";
  from.textContent = message.from;
  node.appendChild(from);
  if (message.reply_to) {
    const reply = document.createElement("div");
    reply.className = "reply";
    reply.textContent = "↩ " + (message.reply_to.text || "#" + message.reply_to.id);
    node.appendChild(reply);
  }
  if (message.photo_url) {
    const image = document.createElement("img");
    image.src = message.photo_url;
    image.alt = "photo";
    node.appendChild(image);
    const link = document.createElement("a");
    link.href = message.photo_url;
    link.textContent = "⬇ 下载图片 / download";
    link.setAttribute("download", "");
    node.appendChild(link);
  }
  if (message.file) {
    const link = document.createElement("a");
    link.href = message.file.url;
    link.className = "file-link";
    link.setAttribute("download", message.file.name || "");
    link.textContent = "📄 " + (message.file.name || "file") + " (" + Math.ceil(message.file.size / 1024) + " KB)";
    node.appendChild(link);
  }
  if (message.location) {
    const where = document.createElement("div");
    where.textContent = "📍 " + message.location.latitude.toFixed(5) + ", " + message.location.longitude.toFixed(5);
    node.appendChild(where);
  }
  if (message.text) {
    const body = document.createElement("div");
    body.className = "body";
    body.appendChild(renderText(message.text, message.entities));
    node.appendChild(body);
  }
  if (message.buttons.length) {
    const keyboard = document.createElement("div");
    keyboard.className = "keyboard";
    for (const row of message.buttons) {
      const line = document.createElement("div");
      line.className = "kbrow";
      for (const button of row) {
        const element = document.createElement("button");
        element.type = "button";
        element.className = "kb" + (button.url ? " url" : "");
        element.textContent = button.text;
        element.addEventListener("click", () => press(kind, message.id, button));
        line.appendChild(element);
      }
      keyboard.appendChild(line);
    }
    node.appendChild(keyboard);
  }
  if (message.reactions.length) {
    const reactions = document.createElement("div");
    reactions.className = "reactions";
    for (const emoji of message.reactions) {
      const span = document.createElement("span");
      span.textContent = emoji;
      reactions.appendChild(span);
    }
    node.appendChild(reactions);
  }
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = (message.pinned ? "📌 " : "") + (message.edited ? "已编辑 edited · " : "") + message.time;
  node.appendChild(meta);
  return node;
}

async function refreshChat(kind) {
  const id = chatId(kind);
  const panel = panels[kind];
  if (id === null) return;
  const data = await api("/api/messages?chat_id=" + encodeURIComponent(id));
  const signature = id + "|" + JSON.stringify(data.messages.map((m) => [m.id, m.version, m.text, m.buttons.length]));
  if (state.shown[kind] === signature) return;
  const changed = state.shown[kind] !== undefined;
  state.shown[kind] = signature;
  if (changed && $(".chats").dataset.active !== kind) $('.tabs [data-tab="' + kind + '"]').classList.add("unread");
  const list = $(".messages", panel);
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...data.messages.map((m) => messageNode(kind, m)));
  const pinned = $(".pinned", panel);
  const pinnedMessage = data.messages.find((m) => m.id === data.pinned);
  pinned.hidden = !pinnedMessage;
  if (pinnedMessage) {
    pinned.textContent = "📌 " + (pinnedMessage.text || "").split("\n").slice(0, 2).join(" · ");
    pinned.onclick = () => {
      const target = $('.msg[data-id="' + pinnedMessage.id + '"]', list);
      if (target) { target.scrollIntoView({ block: "center" }); target.classList.add("flash");
                    setTimeout(() => target.classList.remove("flash"), 1200); }
    };
  }
  if (atBottom) list.scrollTop = list.scrollHeight;
}

async function press(kind, messageId, button) {
  if (!state.persona) return;
  if (button.url) {
    const result = await api("/api/open_url", { user_id: state.persona.user_id, url: button.url });
    if (result.opened) {
      toast("已打开与机器人的私聊 / opened the private chat");
      showChat("private");
      panels.private.scrollIntoView();
    }
    else toast("外部链接，沙盒不打开 / external link, not opened in the sandbox: " + button.url);
    setTimeout(refreshAll, 300);
    return;
  }
  const result = await api("/api/tap", { user_id: state.persona.user_id, chat_id: chatId(kind), message_id: messageId,
                                         data: button.data });
  if (result.answer && result.answer.text) {
    if (result.answer.alert) alertBox(result.answer.text); else toast(result.answer.text);
  }
  refreshAll();
}

for (const kind of Object.keys(panels)) {
  const panel = panels[kind];
  $(".composer", panel).addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("input[type=text]", panel);
    const text = input.value;
    if (!text.trim() || !state.persona) return;
    await api("/api/send", { user_id: state.persona.user_id, chat_id: chatId(kind), text });
    input.value = "";
    setTimeout(refreshAll, 250);
  });
}

$(".file", panels.private).addEventListener("change", (event) => {
  const file = event.target.files[0];
  if (!file || !state.persona) return;
  const reader = new FileReader();
  reader.onload = async () => {
    const content = String(reader.result).split(",", 2)[1] || "";
    await api("/api/document", { user_id: state.persona.user_id, chat_id: chatId("private"), file_name: file.name,
                                 mime_type: file.type || "application/octet-stream", content_base64: content });
    event.target.value = "";
    setTimeout(refreshAll, 300);
  };
  reader.readAsDataURL(file);
});

// 📍 opens the location form (a group's check-in by location; in private, the place /newactivity asks for).
for (const kind of ["org", "private"]) {
  const panel = panels[kind];
  const form = $(".location-form", panel);
  $(".loc", panel).addEventListener("click", (event) => {
    form.hidden = !form.hidden;
    event.currentTarget.setAttribute("aria-expanded", String(!form.hidden));
  });
  $(".loc-activity", panel).addEventListener("change", (event) => {
    const option = event.target.selectedOptions[0];
    if (option && option.dataset.lat) {
      $(".lat", panel).value = option.dataset.lat;
      $(".lon", panel).value = option.dataset.lon;
    }
  });
  $(".loc-send", panel).addEventListener("click", async () => {
    if (!state.persona) return;
    await api("/api/location", { user_id: state.persona.user_id, chat_id: chatId(kind),
                                 latitude: $(".lat", panel).value, longitude: $(".lon", panel).value });
    form.hidden = true;
    $(".loc", panel).setAttribute("aria-expanded", "false");
    setTimeout(refreshAll, 300);
  });
}

// ---- persona -----------------------------------------------------------------------------------
// The organisation list shows an organisation only while its cadre is the persona; otherwise it
// shows "choose…", so that picking any organisation (even the one picked before) is a change.
function choosePersona() {
  if (!state.info) return;
  const kind = document.querySelector('input[name="persona"]:checked').value;
  const select = $("#cadre-org");
  let persona = state.info.personas[kind];
  if (kind === "cadre") {
    if (!select.value) select.value = String(state.lastCadre || state.info.personas.cadres[0].user_id);
    const userId = Number(select.value);
    persona = state.info.personas.cadres.find((p) => p.user_id === userId);
    state.lastCadre = userId;
  } else {
    select.value = "";
  }
  if (!persona) return;
  state.persona = persona;
  localStorage.setItem("sandbox-persona", JSON.stringify({ kind, user_id: persona.user_id }));
  $("#persona-now").textContent = "当前 / now: " + persona.name + (persona.org_name ? " · " + persona.org_name : "");
  updateSummary();
  $(".title", panels.private).textContent = persona.name + " 与机器人私聊";
  state.shown = {};
  api("/api/persona", { user_id: persona.user_id }).then(refreshAll);
}
for (const radio of document.querySelectorAll('input[name="persona"]')) radio.addEventListener("change", choosePersona);
$("#cadre-org").addEventListener("change", () => {
  document.querySelector('input[name="persona"][value="cadre"]').checked = true;
  choosePersona();
});

// ---- clock, crowds, rates ----------------------------------------------------------------------
const EVENT_KINDS = { auction_start: "认领会开始 auction starts", auction_end: "认领会结束 auction ends",
                      reminder: "提醒 reminder", activity_start: "活动开始 activity starts",
                      activity_end: "活动结束 activity ends", activity_summary: "活动小结 activity summary" };

async function jump(at) {
  const result = await api("/api/clock/jump", at ? { at } : {});
  if (result.event) toast("时间已跳到 / clock now " + result.now + " — " + (EVENT_KINDS[result.event.kind] || ""));
  else toast("没有待发生的事件 / nothing scheduled");
  setTimeout(refreshAll, 400);
}
$("#jump-next").addEventListener("click", () => jump(null));

$("#crowd-start").addEventListener("click", async () => {
  const result = await api("/api/crowd", { kind: $("#crowd-kind").value, size: Number($("#crowd-size").value),
                                          per_minute: Number($("#crowd-pace").value) });
  toast("人群已开始 / crowd started (#" + result.crowd.id + ")");
  refreshState();
});

// The folded bar still says who you are and what time it is in the sandbox.
function updateSummary() {
  const persona = state.persona;
  const who = persona ? persona.name + (persona.org_name ? " · " + persona.org_name : "") : "";
  const when = state.info ? state.info.clock.now.slice(5, 16) : "";
  $("#controls-now").textContent = [who, when].filter(Boolean).join(" · ");
}

function renderState(info) {
  $("#clock-now").textContent = info.clock.now;
  updateSummary();
  $("#clock-offset").textContent = info.clock.offset_seconds ? "(+" + Math.round(info.clock.offset_seconds / 60) + " 分钟 min)" : "";
  const events = $("#events");
  events.replaceChildren(...info.events.map((event) => {
    const item = document.createElement("li");
    item.dataset.kind = event.kind;
    const jumpButton = document.createElement("button");
    jumpButton.type = "button";
    jumpButton.textContent = "⏩";
    jumpButton.title = "跳到此刻 / jump here";
    jumpButton.addEventListener("click", () => jump(event.at));
    item.append(jumpButton, " " + event.local + " " + (EVENT_KINDS[event.kind] || event.kind) + " " +
                (event.title || "").split("\n")[0]);
    return item;
  }));
  for (const kind of ["hub", "org"]) {
    const rate = $(".rate", panels[kind]);
    rate.textContent = "机器人消息 " + info.rate[kind] + "/" + info.rate.limit + " 每分钟 · bot msgs/min";
    rate.classList.toggle("high", info.rate[kind] > info.rate.limit);
    $(".title", panels[kind]).textContent = info.chats[kind].title;
  }
  const crowds = $("#crowds");
  crowds.replaceChildren(...info.crowds.map((crowd) => {
    const item = document.createElement("li");
    item.dataset.crowd = crowd.id;
    const what = crowd.kind === "auction" ? "认领 taps" : "签到 check-ins";
    const done = crowd.kind === "auction" ? "成功 won" : "👍";
    item.textContent = "#" + crowd.id + " " + what + ": " + crowd.size + " 人, 已发 sent " + crowd.sent + ", 已答 answered " +
      crowd.answered + ", " + done + " " + crowd.succeeded + (crowd.running ? " …" : " ✓ " + crowd.stop_reason);
    if (crowd.running) {
      const stop = document.createElement("button");
      stop.type = "button";
      stop.textContent = "■ 停止 stop";
      stop.addEventListener("click", () => api("/api/crowd/stop", { id: crowd.id }).then(refreshState));
      item.append(" ", stop);
    }
    return item;
  }));
  const signature = JSON.stringify(info.locations);
  for (const kind of ["org", "private"]) {
    const select = $(".loc-activity", panels[kind]);
    if (select.dataset.signature === signature) continue;
    select.dataset.signature = signature;
    const options = [new Option("活动地点 / activity's place…", "")];
    for (const place of info.locations) {
      const option = new Option(place.code + " " + place.title, place.code);
      option.dataset.lat = place.latitude;
      option.dataset.lon = place.longitude;
      options.push(option);
    }
    select.replaceChildren(...options);
  }
}

async function refreshState() {
  const info = await api("/api/state");
  const first = state.info === null;
  state.info = info;
  if (first) {
    const select = $("#cadre-org");
    const choose = new Option("选择组织… / choose an organisation…", "");
    choose.disabled = true;
    select.replaceChildren(choose, ...info.personas.cadres.map((p) => new Option(p.org_name + " · " + p.name, p.user_id)));
    const saved = JSON.parse(localStorage.getItem("sandbox-persona") || "null");
    if (saved) {
      const radio = document.querySelector('input[name="persona"][value="' + saved.kind + '"]');
      if (radio) radio.checked = true;
      if (saved.kind === "cadre") select.value = String(saved.user_id);
    }
    choosePersona();
  }
  renderState(info);
}

async function refreshAll() {
  await Promise.all(Object.keys(panels).map((kind) => refreshChat(kind).catch(() => {})));
}

async function poll() {
  if (!state.busy) {
    state.busy = true;
    try { await refreshState(); await refreshAll(); } catch (error) { /* shown as a toast already */ }
    state.busy = false;
  }
  setTimeout(poll, 1000);
}
poll();
