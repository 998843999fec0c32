// The citizen web chat: one POST /api/chat per turn; bot buttons become quick replies.
// Phone-first: each new answer is scrolled to its start, a 【详细】 message folds behind 「展开」, phone numbers
// are tap-to-call, buttons already answered are disabled. The transcript survives a reload (the server's history
// when it has one, else this phone's own copy); without either, a reload starts a clearly new conversation.
"use strict";
(function () {
  // Put in the page by the server (bot/app.py web_chat) from their one home: domain/doors.yml's welcome and
  // offline line, bot/limits.py's message limit and its sentence (the same every channel says).
  const WELCOME = document.body.dataset.welcome;
  const OFFLINE = document.body.dataset.offline;
  const MAX_CHARS = Number(document.body.dataset.maxChars);
  const TOO_LONG = document.body.dataset.tooLong;
  const KEY_SENDER = "hotline_sender";
  const KEY_LOG = "hotline_transcript";
  const KEEP = 200;  // transcript items kept on the phone
  const { phoneSegments, fold } = window.HotlineText;  // text.js: the pure text logic, tested under node

  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const input = document.getElementById("input");
  const send = document.getElementById("send");
  const typing = document.getElementById("typing");
  let busy = false;
  let transcript = [];
  let handedOff = false;  // a person has (or is about to take) the conversation
  const quick = document.getElementById("quick");
  const PERSON = "值班人员";  // domain/handoff.yml utter_operator_label_unnamed; the server sends the label itself

  function newId() {
    return (crypto.randomUUID && crypto.randomUUID()) ||
      Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // A random id kept on this phone only; the server hashes it before Rasa sees it.
  function senderId() {
    let id = localStorage.getItem(KEY_SENDER);
    if (!id) {
      id = newId();
      localStorage.setItem(KEY_SENDER, id);
    }
    return id;
  }

  function save() {
    try {
      localStorage.setItem(KEY_LOG, JSON.stringify(transcript.slice(-KEEP)));
    } catch (e) { /* storage full or off: the chat still works */ }
  }

  // Text with phone numbers as tel: links; never innerHTML: bot and user text are data, not markup.
  function fill(el, text) {
    for (const part of phoneSegments(text)) {
      if (!part.tel) {
        el.appendChild(document.createTextNode(part.text));
        continue;
      }
      const a = document.createElement("a");
      a.href = "tel:" + part.tel;
      a.className = "tel";
      a.textContent = part.text;
      el.appendChild(a);
    }
  }

  function bubble(text, who, label) {
    const div = document.createElement("div");
    div.className = "msg " + who;
    if (label) {  // a person speaks: said above the words, so nobody takes them for the bot's
      const name = document.createElement("span");
      name.className = "who";
      name.textContent = label;
      div.appendChild(name);
    }
    const folded = who !== "me" ? fold(text) : null;
    if (folded) {
      const details = document.createElement("details");
      const summary = document.createElement("summary");
      summary.textContent = folded.summary;
      details.appendChild(summary);
      const body = document.createElement("div");
      body.className = "details-body";
      fill(body, folded.body);
      details.appendChild(body);
      div.classList.add("folded");
      div.appendChild(details);
    } else {
      fill(div, text);
    }
    log.appendChild(div);
    return div;
  }

  // Every earlier set of buttons is answered once the citizen says anything (tapped or typed).
  function retireButtons() {
    log.querySelectorAll(".choices button").forEach((x) => { x.disabled = true; });
  }

  function choices(buttons, live) {
    if (!buttons || !buttons.length) return null;
    const row = document.createElement("div");
    row.className = "choices";
    for (const b of buttons) {
      if (/^tel:/.test(b.payload)) {  // a call, not a message to the bot
        const a = document.createElement("a");
        a.className = "chip";
        a.href = b.payload;
        a.textContent = b.title;
        row.appendChild(a);
        continue;
      }
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip";
      chip.textContent = b.title;
      chip.disabled = !live;
      chip.addEventListener("click", () => talk(b.payload, b.title));
      row.appendChild(chip);
    }
    log.appendChild(row);
    return row;
  }

  function show(item, live) {
    const who = item.from === "citizen" ? "me" : (item.from === "operator" ? "operator" : "bot");
    const el = item.text ? bubble(item.text, who, who === "operator" ? (item.label || PERSON) : "") : null;
    const row = choices(item.buttons, live && !handedOff);
    return el || row;
  }

  // While a person has the conversation the bot's quick replies are put away (a tap would reach the person as a
  // bare command); they come back with the bot. `state`: the server's waiting | taken | null.
  function setHandoff(state) {
    if (state === undefined) return;
    handedOff = state === "waiting" || state === "taken";
    document.body.classList.toggle("handed-off", handedOff);
    quick.hidden = handedOff;
    if (handedOff) retireButtons();
  }

  function add(item) {
    transcript.push(item);
    save();
    return show(item, true);
  }

  // The start of the new answer at the top of the view: long answers are read from their first line.
  function scrollToStart(el) {
    if (!el) return;
    log.scrollTop = Math.max(0, el.offsetTop - log.offsetTop - 8);
  }

  function setBusy(on) {
    busy = on;
    typing.hidden = !on;
    send.disabled = on;
    if (on) log.scrollTop = log.scrollHeight;
  }

  async function talk(message, shown) {
    if (busy || !message.trim()) return;
    if (message.length > MAX_CHARS) {  // refused whole, never cut: the text stays in the box to shorten
      scrollToStart(add({ from: "bot", text: TOO_LONG, buttons: [] }));
      return false;
    }
    retireButtons();
    add({ from: "citizen", text: shown || message, buttons: [] });
    setBusy(true);
    let first = null;
    // One id per message: a retry after a broken connection carries it again, and the server applies it once.
    const messageId = Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
    const post = () => fetch("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: senderId(), message: message, message_id: messageId }),
    });
    try {
      let resp = null;
      for (const pause of [0, 1000, 2000, 4000]) {  // the web app restarting: a few seconds, then the offline line
        if (pause) await new Promise((done) => setTimeout(done, pause));
        try {
          resp = await post();
          if (resp.status !== 502 && resp.status !== 503) break;
        } catch (err) {
          resp = null;
        }
      }
      if (resp === null) throw new Error("offline");
      const data = await resp.json().catch(() => ({}));
      if (!resp.ok) {
        first = add({ from: "bot", text: data.message || OFFLINE, buttons: [] });
      } else {
        setHandoff(data.handoff);
        for (const m of data.messages || []) {
          const el = add({ from: "bot", text: m.text || "", buttons: m.buttons || [] });
          first = first || el;
        }
      }
    } catch (err) {
      first = add({ from: "bot", text: OFFLINE, buttons: [] });
    } finally {
      setBusy(false);
      scrollToStart(first);
    }
    return true;
  }

  // Earlier turns: the server's transcript when it has one, else this phone's copy. Only the last set of buttons
  // stays live, and only if nothing was said after it.
  function replay(items) {
    items.forEach((item, i) => show(item, i === items.length - 1 && item.from !== "citizen"));
    log.scrollTop = log.scrollHeight;
  }

  async function restore() {
    const id = localStorage.getItem(KEY_SENDER);
    if (id) {
      try {
        // GET /api/chat/{sender}/history (bot/api.py, CONTRACT): a 404 until it lands.
        const resp = await fetch(["/api/chat", encodeURIComponent(id), "history"].join("/"));
        if (resp.ok) {
          const data = await resp.json();
          if (Array.isArray(data.messages) && data.messages.length) {
            // A tapped button is stored as its payload: show its title, as when it was tapped.
            const titles = {};
            document.querySelectorAll("#quick .chip").forEach((c) => { titles[c.dataset.payload] = c.textContent; });
            for (const m of data.messages) for (const b of m.buttons || []) titles[b.payload] = b.title;
            transcript = data.messages.map((m) => ({
              from: m.from,
              text: m.from === "citizen" && titles[m.text] ? titles[m.text] : (m.text || ""),
              buttons: m.buttons || [],
              label: m.label,
            }));
            setHandoff(data.handoff);
            save();
            bubble(WELCOME, "bot");
            replay(transcript);
            return;
          }
        }
      } catch (e) { /* no history route yet: this phone's copy below */ }
      try {
        transcript = JSON.parse(localStorage.getItem(KEY_LOG) || "[]");
      } catch (e) {
        transcript = [];
      }
      if (transcript.length) {
        bubble(WELCOME, "bot");
        replay(transcript);
        return;
      }
      // An id without any transcript would resume the bot's half-finished questions: start anew instead.
      localStorage.setItem(KEY_SENDER, newId());
    }
    transcript = [];
    save();
    bubble(WELCOME, "bot");
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || busy) return;
    if (text.length > MAX_CHARS) {
      talk(text);  // says the limit; the text stays in the box
      return;
    }
    input.value = "";
    await talk(text);
    input.focus({ preventScroll: true });
  });
  document.querySelectorAll("#quick .chip").forEach((chip) => {
    chip.addEventListener("click", () => talk(chip.dataset.payload, chip.textContent));
  });

  // An operator's replies (and the bot's notice when they hand back) arrive between turns: ask every few seconds
  // for lines pushed after the last one seen (GET /api/chat/{sender}/messages, bot/handoffs.py).
  let cursor = null;
  async function poll() {
    const id = localStorage.getItem(KEY_SENDER);
    if (!id || busy) return;
    try {
      const url = ["/api/chat", encodeURIComponent(id), "messages"].join("/") + "?since=" + (cursor || 0);
      const resp = await fetch(url);
      if (!resp.ok) return;
      const data = await resp.json();
      if (cursor !== null) {  // the first answer only sets the cursor: earlier lines came with the history
        let first = null;
        setHandoff(data.handoff);
        for (const m of data.messages || []) {
          const el = add({ from: m.from || "operator", text: m.text || "", buttons: m.buttons || [], label: m.label });
          first = first || el;
        }
        scrollToStart(first);
      } else {
        setHandoff(data.handoff);
      }
      cursor = Number.isInteger(data.next) ? data.next : cursor;
    } catch (e) { /* offline for a moment: the next poll catches up */ }
  }

  restore();
  poll();
  setInterval(poll, 3000);
})();
