// The citizen web chat: one POST /api/chat per turn; bot buttons become quick replies.
"use strict";
(function () {
  const WELCOME = "您好！我是城中区司法局12348法律服务助手，可以帮您讨要工资、了解能否申请法律援助、找到所在社区（村）的法律顾问。\n请直接说说您的问题，或点下面的按钮。";
  const OFFLINE = "抱歉，网络好像断了。请稍后再试，或直接拨打12348公共法律服务热线（24小时）。";
  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const input = document.getElementById("input");
  const send = document.getElementById("send");
  const typing = document.getElementById("typing");
  let busy = false;

  // A random id kept on this phone only; the server hashes it before Rasa sees it.
  function senderId() {
    let id = localStorage.getItem("hotline_sender");
    if (!id) {
      id = (crypto.randomUUID && crypto.randomUUID()) ||
        Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
      localStorage.setItem("hotline_sender", id);
    }
    return id;
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function bubble(text, who) {
    const div = document.createElement("div");
    div.className = "msg " + who;
    div.textContent = text;  // never innerHTML: bot and user text are data, not markup
    log.appendChild(div);
    scrollDown();
  }

  function choices(buttons) {
    if (!buttons || !buttons.length) return;
    const row = document.createElement("div");
    row.className = "choices";
    for (const b of buttons) {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip";
      chip.textContent = b.title;
      chip.addEventListener("click", () => {
        row.querySelectorAll("button").forEach((x) => { x.disabled = true; });
        talk(b.payload, b.title);
      });
      row.appendChild(chip);
    }
    log.appendChild(row);
    scrollDown();
  }

  function setBusy(on) {
    busy = on;
    typing.hidden = !on;
    send.disabled = on;
    if (on) scrollDown();
  }

  async function talk(message, shown) {
    if (busy || !message.trim()) return;
    bubble(shown || message, "me");
    setBusy(true);
    try {
      const resp = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender: senderId(), message: message }),
      });
      const data = await resp.json();
      if (!resp.ok) throw new Error(data.message || "error");
      for (const m of data.messages) {
        if (m.text) bubble(m.text, "bot");
        choices(m.buttons);
      }
    } catch (err) {
      bubble(OFFLINE, "bot");
    } finally {
      setBusy(false);
      input.focus();
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    talk(text);
  });
  document.querySelectorAll("#quick .chip").forEach((chip) => {
    chip.addEventListener("click", () => talk(chip.dataset.payload, chip.textContent));
  });

  bubble(WELCOME, "bot");
})();
