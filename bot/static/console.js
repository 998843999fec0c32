// Operator console: login (HttpOnly session cookie + CSRF header), the handoff queue with transcript and reply,
// the copilot for a phone call, and the dashboard. It draws what the API returns; no codes are shown to people.
"use strict";
(function () {
  const { waited, queueOrder, fmt } = window.HotlineText;
  const $ = (id) => document.getElementById(id);
  const CHANNEL = { web: "网页", wechat: "微信", telegram: "Telegram", phone: "电话" };
  const FROM = { citizen: "群众", bot: "智能助手", operator: "接线员" };
  const VERDICTS = { eligible: "可以申请法律援助", ineligible: "不符合法律援助条件", needs_review: "需要法律援助中心审查" };
  const YES_NO = [["", "未知"], ["true", "是"], ["false", "否"]];
  let me = null;          // {username, must_change_password}
  let last = null;        // the last analysis of this call
  let lastText = "";      // the caller's last words (re-read with corrections)
  let heard = [];         // what the caller said, for the summary
  let callId = "";
  let selected = null;    // the handoff shown on the right
  let timer = null;
  let waitingIds = null;  // the waiting handoffs of the last refresh (null before the first): a new one is announced
  const TITLE = document.title;

  // --- talking to the server -----------------------------------------------------------------------------------

  function csrf() {
    const m = document.cookie.match(/(?:^|;\s*)hotline_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  async function api(path, options) {
    const opts = options || {};
    const method = opts.method || "GET";
    const headers = { "Content-Type": "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf();
    const resp = await fetch(path, { method: method, headers: headers, credentials: "same-origin",
      body: opts.body ? JSON.stringify(opts.body) : undefined });
    const data = await resp.json().catch(() => ({}));
    if (resp.status === 401 && path !== "/api/login") show(null);
    if (!resp.ok) {
      const err = new Error(data.message || data.detail || "请求失败");
      err.status = resp.status; err.detail = data.detail;
      throw err;
    }
    return data;
  }

  function text(el, value) { el.textContent = value == null ? "" : String(value); }
  function el(tag, cls, value) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (value != null) text(e, value);
    return e;
  }
  function when(iso) { return iso ? new Date(iso).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit" }) : ""; }

  // --- views -----------------------------------------------------------------------------------------------------

  function show(who) {
    me = who;
    const loggedIn = Boolean(who) && !who.must_change_password;
    $("login-view").hidden = Boolean(who);
    $("password-view").hidden = !(who && who.must_change_password);
    $("work-view").hidden = !loggedIn;
    $("logout").hidden = !who;
    $("whoami").hidden = !who;
    text($("whoami"), who ? "接线员：" + who.username : "");
    clearInterval(timer);
    if (loggedIn) {
      newCall();
      tab("queue-panel");
      loadHandoffs();
      timer = setInterval(loadHandoffs, 5000);  // a citizen is waiting: keep the queue and transcript live
    }
  }

  function tab(id) {
    for (const b of document.querySelectorAll(".tab")) {
      b.classList.toggle("active", b.dataset.tab === id);
      $(b.dataset.tab).hidden = b.dataset.tab !== id;
    }
    if (id === "stats-panel") loadDashboard();
  }
  for (const b of document.querySelectorAll(".tab")) b.addEventListener("click", () => tab(b.dataset.tab));

  $("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    text($("login-error"), "");
    try {
      const data = await api("/api/login", { method: "POST",
        body: { username: $("username").value, password: $("password").value } });
      $("password").value = "";
      show({ username: data.username, must_change_password: data.must_change_password });
    } catch (err) {
      text($("login-error"), err.status === 429 ? "连续输错密码次数太多，请15分钟后再试" : "用户名或密码错误");
    }
  });

  $("password-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    text($("password-error"), "");
    if ($("new-password").value !== $("new-password-2").value) {
      text($("password-error"), "两次输入的新密码不一样"); return;
    }
    try {
      await api("/api/password", { method: "POST",
        body: { old_password: $("old-password").value, new_password: $("new-password").value } });
      for (const id of ["old-password", "new-password", "new-password-2"]) $(id).value = "";
      show({ username: me.username, must_change_password: false });
    } catch (err) {
      text($("password-error"), err.status === 403 ? "当前密码不对" : "新密码至少10位，且不能和旧密码相同");
    }
  });

  $("logout").addEventListener("click", async () => {
    try { await api("/api/logout", { method: "POST" }); } catch (e) { /* already logged out */ }
    show(null);
  });

  // --- the handoff queue -------------------------------------------------------------------------------------------

  // waited, queueOrder and fmt: text.js (the pure text logic, tested under node)

  // A new citizen waiting: the tab's title says how many wait (seen from another tab), and a short tone if wanted.
  function announce(items) {
    const waiting = items.filter((h) => h.status === "waiting");
    document.title = waiting.length ? "(" + waiting.length + ") 有群众等待人工 · " + TITLE : TITLE;
    const ids = new Set(waiting.map((h) => h.id));
    const fresh = waitingIds !== null && waiting.some((h) => !waitingIds.has(h.id));
    waitingIds = ids;
    if (fresh && $("sound").checked) beep();
  }

  function beep() {
    try {
      const ctx = new (window.AudioContext || window.webkitAudioContext)();
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.15;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(); osc.stop(ctx.currentTime + 0.25);
      osc.onended = () => ctx.close();
    } catch (e) { /* no audio here: the title still says it */ }
  }

  async function loadHandoffs() {
    let items;
    try { items = queueOrder(await api("/api/handoffs")); } catch (e) { return; }
    text($("queue-count"), items.filter((h) => h.status === "waiting").length);
    announce(items);
    const list = $("handoffs");
    list.replaceChildren();
    if (!items.length) list.appendChild(el("li", "muted", "暂时没有等待人工的群众"));
    for (const h of items) {
      const li = el("li");
      li.dataset.id = h.id;
      if (selected && selected.id === h.id) li.classList.add("selected");
      li.append(el("span", "pill", h.channel_label || CHANNEL[h.channel] || "其他渠道"),
        el("span", "pill " + h.status, h.status === "taken" ? "已接手 " + (h.operator || "") : "待接手"),
        el("span", "muted", (h.status === "waiting" ? "已等待" : "等了") + waited(h.waiting_seconds) +
          (h.category_label ? " · " + h.category_label : "")));
      li.appendChild(el("div", "about", h.summary || ""));
      const actions = el("div", "actions");
      if (h.status === "waiting") actions.appendChild(handoffButton(h.id, "taken", "接手", ""));
      actions.appendChild(handoffButton(h.id, "closed", "结束", "secondary"));
      li.appendChild(actions);
      li.addEventListener("click", (e) => { if (e.target.tagName !== "BUTTON") select(h); });
      list.appendChild(li);
      if (selected && selected.id === h.id) select(h, true);
    }
    if (selected && !items.some((h) => h.id === selected.id)) {
      // Closed elsewhere: by a colleague, or the citizen went back to the bot (「返回智能助手」).
      if (!closing) text($("handoff-status"), "该对话已结束，智能助手已接着回答该群众。");
      select(null);
    }
  }

  function handoffButton(id, status, label, cls) {
    const b = el("button", cls, label);
    b.type = "button";
    b.addEventListener("click", () => setHandoffStatus(id, status, b));
    return b;
  }

  // 接手: this operator answers the citizen; 结束 (after a confirmation): the bot answers them again and the talk
  // is logged once. The button is given back whatever happens: the panel serves every later conversation too.
  let closing = false;
  async function setHandoffStatus(id, status, button) {
    if (status === "closed" && !window.confirm("结束人工服务？结束后由智能助手继续回答这位群众，本次咨询会登记。")) return;
    if (button) button.disabled = true;
    closing = status === "closed";
    try {
      const r = await api(`/api/handoffs/${id}/status`, { method: "POST", body: { status: status } });
      text($("handoff-status"), r.message);
      if (status === "taken") select(r);
      await loadHandoffs();
    } catch (err) {
      text($("handoff-status"), err.message);
    } finally {
      if (button) button.disabled = false;
      closing = false;
    }
  }

  function select(h, keepDraft) {
    selected = h;
    $("reply-form").hidden = !h;
    for (const li of $("handoffs").children) li.classList.toggle("selected", Boolean(h) && li.dataset.id == String(h.id));
    if (!h) {
      text($("detail-title"), "（在左边选一位群众）");
      text($("detail-summary"), ""); $("transcript").replaceChildren(); $("detail-callback").hidden = true;
      return;
    }
    text($("detail-title"), (h.channel_label || "") + " · " + (h.status === "taken" ? "已接手 " + (h.operator || "") : "待接手") +
      " · 等待" + waited(h.waiting_seconds));
    text($("detail-summary"), h.summary);
    $("detail-callback").hidden = !h.callback_phone;
    text($("detail-callback"), h.callback_phone ? "群众同意回电，号码：" + h.callback_phone : "");
    $("detail-take").hidden = h.status !== "waiting";
    const ol = $("transcript");
    const atBottom = ol.scrollTop + ol.clientHeight >= ol.scrollHeight - 4;
    ol.replaceChildren();
    for (const m of h.transcript || []) {
      const li = el("li", m.from);
      li.append(el("span", "who", (FROM[m.from] || "") + (m.operator ? " " + m.operator : "") + " " + when(m.at)),
        document.createTextNode(m.text));
      ol.appendChild(li);
    }
    if (atBottom || !keepDraft) ol.scrollTop = ol.scrollHeight;
    if (!keepDraft) text($("reply-status"), "");
  }

  $("reply-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const words = $("reply-text").value.trim();
    if (!selected || !words) return;
    text($("reply-status"), "发送中…");
    try {
      await api(`/api/handoffs/${selected.id}/reply`, { method: "POST", body: { text: words } });
      $("reply-text").value = "";
      text($("reply-status"), "已发送");
    } catch (err) { text($("reply-status"), "没有发出去：" + err.message); }
    await loadHandoffs();
  });
  $("detail-take").addEventListener("click", () => selected && setHandoffStatus(selected.id, "taken", $("detail-take")));
  $("detail-close").addEventListener("click", () => selected && setHandoffStatus(selected.id, "closed", $("detail-close")));
  $("refresh").addEventListener("click", loadHandoffs);

  // --- the copilot for a phone call --------------------------------------------------------------------------------

  // Every call has its own id: what the last caller said never carries over to the next one.
  function newCall() {
    callId = "call-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 8);
    text($("call-id"), callId);
    last = null; heard = []; lastText = "";
    $("result").hidden = true;
    for (const id of ["script-box", "suggested", "eligibility", "wage-steps", "advisor", "office"]) $(id).hidden = true;
    $("summary").value = "";
    $("utterance").value = "";
    $("outcome").value = "answered";
  }


  function factRow(f) {
    const tr = el("tr");
    const input = typeof f.value === "boolean" ? el("select") : el("input");
    if (typeof f.value === "boolean") {
      for (const [v, label] of YES_NO) { const o = el("option", null, label); o.value = v; input.appendChild(o); }
      input.value = String(f.value);
    } else {
      input.value = f.display != null ? f.display : fmt(f.value);
    }
    input.dataset.slot = f.slot;
    input.dataset.original = input.value;
    input.setAttribute("aria-label", f.label);
    const a = el("td", null, f.label || "");
    const b = el("td"); b.appendChild(input);
    tr.append(a, b);
    return tr;
  }

  function box(id, title, lines) {
    const b = $(id);
    b.replaceChildren();
    b.hidden = !lines || !lines.length;
    if (b.hidden) return;
    b.appendChild(el("h4", null, title));
    b.appendChild(document.createTextNode(lines.filter((x) => x).join("\n")));
  }

  function render(r) {
    $("result").hidden = false;
    const conf = r.intent.confidence == null ? "" : "（" + Math.round(r.intent.confidence * 100) + "%）";
    text($("intent"), (r.intent.label || "未识别") + conf);
    text($("category"), r.category_label || "—");
    text($("flow"), r.flow_label || "—");
    const rows = $("slots");
    rows.replaceChildren();
    const facts = r.facts || [];
    if (!facts.length) rows.appendChild(el("tr", "muted", "还没有听到具体情况"));
    for (const f of facts) rows.appendChild(factRow(f));
    const qs = $("questions");
    qs.replaceChildren();
    for (const q of r.questions || []) {
      const li = el("li", null, q.text);
      if ((q.buttons || []).length) {  // the caller's answer, one click: it fills the fact as a correction would
        const opts = el("div", "opts", "可选：");
        for (const b of q.buttons) {
          const chip = el("button", "opt", b.title);
          chip.type = "button";
          chip.dataset.slot = q.slot;
          chip.addEventListener("click", () => answerWith(q.slot, b.value));
          opts.appendChild(chip);
        }
        li.appendChild(opts);
      }
      qs.appendChild(li);
    }
    if (!(r.questions || []).length) qs.appendChild(el("li", "muted", "该问的都问了"));
    const script = r.script || [];
    $("script-box").hidden = !script.length;
    $("script").replaceChildren(...script.map((s) => el("li", null, s)));
    $("suggested").hidden = Boolean(script.length) || !r.suggested_reply;
    text($("suggested"), r.suggested_reply);
    const e = r.eligibility;
    box("eligibility", "法律援助：" + (e ? (e.verdict_label || VERDICTS[e.verdict] || "") : ""), e ? [
      "依据：" + (e.basis || []).join("；"),
      (e.materials || []).length ? "要带的材料：\n" + e.materials.map((m, i) => (i + 1) + ". " + m).join("\n") : "",
      (e.next_steps || []).length ? "下一步：" + e.next_steps.join(" ") : "",
    ] : null);
    box("wage-steps", "讨薪怎么走", r.wage_steps || []);
    const a = r.advisor;
    box("advisor", "本社区法律顾问" + (a && a.sample ? "（示例数据）" : ""), a ? [
      a.street + " " + a.community + "：" + (a.advisor || "—") + " " + (a.advisor_phone || ""),
      (a.justice_office || "") + " " + (a.office_address || "") + " " + (a.office_phone || ""), a.office_hours || "",
    ] : null);
    const o = r.office;
    box("office", "所在街道司法所" + (o && o.sample ? "（示例数据）" : ""), o && !a ? [
      (o.street || "") + " " + (o.justice_office || "") + "：" + (o.office_address || ""),
      (o.office_phone || "") + " " + (o.office_hours || ""),
    ] : null);
  }

  async function analyze(words, corrections) {
    text($("analyze-status"), "分析中…");
    try {
      const body = { text: words, conversation_id: callId };
      if (corrections) body.facts = corrections;
      last = await api("/api/copilot/analyze", { method: "POST", body: body });
      render(last);
      text($("analyze-status"), "");
      return true;
    } catch (err) { text($("analyze-status"), err.message); return false; }
  }

  $("analyze-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const said = $("utterance").value.trim();
    if (!said) return;
    if (await analyze(said, null)) {
      lastText = said;
      heard.push(said);
      $("summary").value = heard.join("；");
      $("utterance").value = "";
    }
  });

  // Corrections: the fields the operator changed, as {slot: value | null}; they override what the NLU heard.
  $("facts-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const corrections = {};
    for (const input of $("slots").querySelectorAll("[data-slot]")) {
      if (input.value === input.dataset.original) continue;
      const v = input.value.trim();
      corrections[input.dataset.slot] = v === "" ? null : (v === "true" ? true : (v === "false" ? false : v));
    }
    if (!Object.keys(corrections).length || !lastText) return;
    await analyze(lastText, corrections);
  });

  // An answer option clicked: that fact set (a group added to those known), the call read again with it.
  async function answerWith(slot, value) {
    if (!lastText) return;
    const known = (last && last.slots) || {};
    const v = slot === "groups" && Array.isArray(value) && value.length
      ? Array.from(new Set([...(known.groups || []), ...value])) : value;
    await analyze(lastText, { [slot]: v });
  }

  $("new-call").addEventListener("click", newCall);

  $("log-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const s = (last && last.slots) || {};
    const body = {
      call_id: callId,  // the same call logged twice (a double click) stays one record
      outcome: $("outcome").value,
      summary: $("summary").value.trim() || null,
      category: (last && last.category) || null,
      migrant_worker: s.migrant_worker === true,
      persons: Number.isInteger(s.people_count) && s.people_count > 0 ? s.people_count : 1,
      street: s.street || null,
      community: s.community || null,
      amount: Number.isFinite(s.amount) ? s.amount : null,
      eligibility: last && last.eligibility ? last.eligibility.verdict : null,
      legal_basis: last && last.eligibility ? (last.eligibility.basis || []).join("；") : null,
    };
    if (!body.category && !body.summary && !body.street && body.amount == null && !body.eligibility) {
      text($("log-status"), "这次来电还没有记下任何内容（来电人说的话或类别），不能登记。");
      return;
    }
    const button = $("log-form").querySelector("button");
    button.disabled = true;
    try {
      const row = await api("/api/consultations", { method: "POST", body: body });
      newCall();  // the next call starts clean: no facts, verdict or advisor of this caller
      text($("log-status"), "已登记（编号 " + row.id + "），可以接下一个电话");
    } catch (err) { text($("log-status"), err.message); }
    button.disabled = false;
  });

  // --- dashboard -------------------------------------------------------------------------------------------------

  function counts(target, data) {
    const t = el("table", "counts");
    const head = el("tr"); head.append(el("th", null, "合计"), el("td", "n", data.total)); t.appendChild(head);
    for (const [title, rows] of [["按服务", data.by_service], ["按类别", data.by_category]]) {
      const tr = el("tr"); tr.appendChild(el("th", null, title)); t.appendChild(tr);
      for (const r of rows) { const x = el("tr"); x.append(el("td", null, r.label), el("td", "n", r.count)); t.appendChild(x); }
      if (!rows.length) { const x = el("tr"); x.appendChild(el("td", "muted", "无")); t.appendChild(x); }
    }
    target.replaceChildren(t);
  }

  function chart(byMonth) {
    const NS = "http://www.w3.org/2000/svg";
    const months = Object.keys(byMonth).sort();
    const max = Math.max(1, ...months.map((m) => byMonth[m]));
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 640 240");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "各月咨询量柱状图");
    months.forEach((m, i) => {
      const h = Math.round((byMonth[m] / max) * 180);
      const x = 20 + i * 51;
      const rect = document.createElementNS(NS, "rect");
      rect.setAttribute("x", x); rect.setAttribute("y", 200 - h); rect.setAttribute("width", 36); rect.setAttribute("height", h);
      const n = document.createElementNS(NS, "text");
      n.setAttribute("x", x + 18); n.setAttribute("y", 195 - h); n.setAttribute("text-anchor", "middle"); n.textContent = byMonth[m];
      const label = document.createElementNS(NS, "text");
      label.setAttribute("x", x + 18); label.setAttribute("y", 220); label.setAttribute("text-anchor", "middle");
      label.textContent = Number(m) + "月";
      svg.append(rect, n, label);
    });
    $("chart").replaceChildren(svg);
  }

  async function loadDashboard() {
    try {
      const d = await api("/api/dashboard");
      text($("today-date"), d.today.date);
      text($("month-label"), d.month.month);
      text($("year-label"), d.year + "年");
      counts($("today"), d.today);
      counts($("month"), d.month);
      chart(d.by_month);
      $("export-xlsx").href = "/api/export?month=" + d.month.month + "&format=xlsx";
      $("export-csv").href = "/api/export?month=" + d.month.month + "&format=csv";
      text($("paragraph"), d.paragraph);
    } catch (err) { text($("today"), err.message); }
  }
  $("show-paragraph").addEventListener("click", () => { $("paragraph").hidden = !$("paragraph").hidden; });

  // On load: the session cookie is HttpOnly, so ask the server who is logged in.
  api("/api/me").then(show, () => show(null));
})();
