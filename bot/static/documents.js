// The citizen's draft papers in the web chat (issue 25): a download link the bot sends (/api/documents/TOKEN)
// becomes one big button — one tap on a phone opens the PDF. Kept apart from chat.js: it only watches the log.
(function () {
  "use strict";
  const LINK = /(?:https?:\/\/[^\s]+)?\/api\/documents\/[0-9]+\.(pdf|docx)\.[0-9]+\.[A-Za-z0-9_\-=]+/g;
  const LABEL = { pdf: "点这里打开（PDF）", docx: "点这里下载（Word）" };  // the bubble names which paper

  function button(url, fmt) {
    const a = document.createElement("a");
    a.href = url;
    a.className = "doc-link";
    a.target = "_blank";
    a.rel = "noopener";
    a.textContent = LABEL[fmt] || "打开文件";
    // Inline style: a thumb-sized target (at least 48 px high, full width) without touching chat.css.
    a.style.cssText = "display:block;margin:.5em 0;padding:.8em 1em;min-height:48px;box-sizing:border-box;" +
      "background:#b3261e;color:#fff;border-radius:10px;text-align:center;font-weight:600;text-decoration:none;";
    return a;
  }

  // Text nodes only, never innerHTML: bot text is data, not markup.
  function linkify(node) {
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    const hits = [];
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {
      if (t.parentElement && t.parentElement.closest("a")) continue;
      LINK.lastIndex = 0;
      if (LINK.test(t.nodeValue)) hits.push(t);
    }
    for (const t of hits) {
      const text = t.nodeValue;
      const frag = document.createDocumentFragment();
      let last = 0;
      LINK.lastIndex = 0;
      for (let m = LINK.exec(text); m; m = LINK.exec(text)) {
        if (m.index > last) frag.appendChild(document.createTextNode(text.slice(last, m.index)));
        frag.appendChild(button(m[0], m[1]));
        last = m.index + m[0].length;
      }
      if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
      t.parentNode.replaceChild(frag, t);
    }
  }

  function start() {
    const log = document.getElementById("log");
    if (!log) return;
    linkify(log);
    new MutationObserver((changes) => {
      for (const c of changes) for (const n of c.addedNodes) if (n.nodeType === 1) linkify(n);
    }).observe(log, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
