// The pure text logic of the web chat and the console, in one place and testable without a browser
// (tests/js/text.test.mjs under `node --test`; tests/test_static_js.py runs it in `make test`): which parts of a
// message are numbers to call, how a 【详细】 message folds, how an operator reads a wait, the queue's order and
// how a fact is shown. No DOM here: chat.js and console.js build the elements.
"use strict";
(function (root) {
  // Numbers a citizen may call: mobiles, landlines with area code, the service hotlines.
  const PHONE = /(0\d{2,3}-?\d{7,8}|1[3-9]\d{9}|12348|12333|12345|12351|110|120)(?!\d)/g;
  const DETAILS = "【详细】";

  // [{text} | {tel, text}] in order: the text cut around each number, tel without its dashes.
  function phoneSegments(text) {
    const parts = [];
    let last = 0;
    for (const m of String(text).matchAll(PHONE)) {
      if (m.index > last) parts.push({ text: text.slice(last, m.index) });
      parts.push({ tel: m[0].replace(/-/g, ""), text: m[0] });
      last = m.index + m[0].length;
    }
    if (last < text.length) parts.push({ text: text.slice(last) });
    return parts;
  }

  // A bot message starting 【详细】 folds behind 「展开：<its first line>」; null when it does not fold.
  function fold(text) {
    if (!String(text).startsWith(DETAILS)) return null;
    const lines = text.slice(DETAILS.length).split("\n");
    return { summary: "展开：" + (lines.shift() || "详细说明"), body: lines.join("\n") };
  }

  // Waiting time as an operator reads it, from the server's count of seconds (not this computer's clock).
  function waited(seconds) {
    if (seconds < 60) return "不到1分钟";
    if (seconds < 3600) return Math.floor(seconds / 60) + "分钟";
    return Math.floor(seconds / 3600) + "小时" + Math.floor((seconds % 3600) / 60) + "分钟";
  }

  // The longest wait first: waiting citizens oldest first, then those a person is answering.
  function queueOrder(items) {
    const rank = (h) => (h.status === "waiting" ? 0 : 1);
    return items.slice().sort((a, b) => rank(a) - rank(b) ||
      String(a.created_at || "").localeCompare(String(b.created_at || "")) || a.id - b.id);
  }

  // A fact's value as the console shows it: 是/否, a list joined by 、, nothing for no value.
  function fmt(v) {
    if (v === true) return "是";
    if (v === false) return "否";
    return Array.isArray(v) ? v.join("、") : (v == null ? "" : String(v));
  }

  const api = { PHONE, DETAILS, phoneSegments, fold, waited, queueOrder, fmt };
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.HotlineText = api;
})(typeof window !== "undefined" ? window : globalThis);
