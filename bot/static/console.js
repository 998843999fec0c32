// Operator console: login, copilot analysis per call, consultation logging, the handoff queue.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const SLOT_LABELS = {
    employer: "欠薪单位/老板", amount: "金额（元）", people_count: "人数", months_owed: "拖欠月数",
    employment_ended: "已离职", has_contract: "签了合同", evidence: "证据", street: "街道", community: "社区/村",
    phone: "电话", matter: "事项", migrant_worker: "农民工", monthly_income: "家庭月收入", household_size: "家庭人口",
    has_valuable_assets: "有贵重财产", groups: "特殊群体",
  };
  const VERDICTS = { eligible: "可以申请法律援助", ineligible: "不符合法律援助条件", needs_review: "需要法律援助中心审查" };
  let last = null;      // the last analysis of this call
  let heard = [];       // what the caller said, for the summary

  const token = () => sessionStorage.getItem("hotline_token");

  function show(loggedIn) {
    $("login-view").hidden = loggedIn;
    $("work-view").hidden = !loggedIn;
    $("logout").hidden = !loggedIn;
    if (loggedIn) { newCall(); loadHandoffs(); }
  }

  async function api(path, options) {
    const opts = options || {};
    const resp = await fetch(path, {
      method: opts.method || "GET",
      headers: Object.assign({ "Content-Type": "application/json" },
        token() ? { Authorization: "Bearer " + token() } : {}),
      body: opts.body ? JSON.stringify(opts.body) : undefined,
    });
    const data = await resp.json().catch(() => ({}));
    if (resp.status === 401 && path !== "/api/login") {
      sessionStorage.removeItem("hotline_token");
      show(false);
    }
    if (!resp.ok) throw new Error(data.message || data.detail || "请求失败");
    return data;
  }

  function newCall() {
    $("call-id").textContent = "call-" + Date.now().toString(36);
    last = null; heard = [];
    $("result").hidden = true;
    $("summary").value = "";
    $("log-status").textContent = "";
  }

  function text(el, value) { el.textContent = value == null ? "" : String(value); }
  function fmt(v) {
    if (v === true) return "是";
    if (v === false) return "否";
    return Array.isArray(v) ? v.join("、") : String(v);
  }

  function render(r) {
    $("result").hidden = false;
    const conf = r.intent.confidence == null ? "" : "（" + Math.round(r.intent.confidence * 100) + "%）";
    text($("intent"), r.intent.name + conf);
    text($("category"), r.category || "—");
    text($("suggested"), r.suggested_reply);
    text($("missing"), r.missing.length ? r.missing.map((s) => SLOT_LABELS[s] || s).join("、") : "无");
    const rows = $("slots");
    rows.replaceChildren();
    for (const [k, v] of Object.entries(r.slots)) {
      const tr = document.createElement("tr");
      const a = document.createElement("td"); text(a, SLOT_LABELS[k] || k);
      const b = document.createElement("td"); text(b, fmt(v));
      tr.append(a, b); rows.appendChild(tr);
    }
    const el = $("eligibility");
    el.hidden = !r.eligibility;
    if (r.eligibility) {
      text(el, "法律援助：" + (VERDICTS[r.eligibility.verdict] || r.eligibility.verdict) +
        "\n依据：" + (r.eligibility.basis || []).join("；") +
        ((r.eligibility.next_steps || []).length ? "\n下一步：" + r.eligibility.next_steps.join(" ") : ""));
    }
    const ad = $("advisor");
    ad.hidden = !r.advisor;
    if (r.advisor) {
      const a = r.advisor;
      text(ad, a.street + " " + a.community + "：法律顾问 " + (a.advisor || "—") + " " + (a.advisor_phone || "") +
        "\n" + (a.justice_office || "") + " " + (a.office_address || "") + " " + (a.office_phone || "") +
        "\n" + (a.office_hours || "") + (a.sample ? "\n（示例数据）" : ""));
    }
  }

  async function loadHandoffs() {
    const list = $("handoffs");
    try {
      const items = await api("/api/handoffs");
      list.replaceChildren();
      if (!items.length) { const li = document.createElement("li"); text(li, "暂无"); list.appendChild(li); }
      for (const h of items) {
        const li = document.createElement("li");
        const pill = document.createElement("span"); pill.className = "pill"; text(pill, h.channel);
        const state = document.createElement("span"); state.className = "pill";
        text(state, h.status === "taken" ? "已接手 " + (h.operator || "") : "待接手");
        const when = new Date(h.created_at + "Z").toLocaleString("zh-CN");
        const about = when + " " + (h.category_label || "") + " " + (h.summary || "");
        li.append(pill, state, document.createTextNode(about));
        const actions = document.createElement("div"); actions.className = "actions";
        if (h.status === "waiting") actions.appendChild(handoffButton(h.id, "taken", "接手", ""));
        actions.appendChild(handoffButton(h.id, "closed", "结束", "secondary"));
        li.appendChild(actions);
        list.appendChild(li);
      }
    } catch (e) { /* a 401 already switched to the login view */ }
  }

  // 接手 marks the citizen as being helped by this operator; 结束 closes it and lets the bot answer them again.
  function handoffButton(id, status, label, cls) {
    const b = document.createElement("button");
    b.type = "button"; b.className = cls; text(b, label);
    b.addEventListener("click", () => setHandoffStatus(id, status, b));
    return b;
  }

  async function setHandoffStatus(id, status, button) {
    button.disabled = true;
    try {
      const r = await api(`/api/handoffs/${id}/status`, { method: "POST", body: { status: status } });
      text($("handoff-status"), r.message);
    } catch (err) { text($("handoff-status"), err.message); }
    await loadHandoffs();
  }

  $("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    text($("login-error"), "");
    try {
      const data = await api("/api/login", { method: "POST",
        body: { username: $("username").value, password: $("password").value } });
      sessionStorage.setItem("hotline_token", data.token);
      $("password").value = "";
      show(true);
    } catch (err) { text($("login-error"), "用户名或密码错误"); }
  });

  $("logout").addEventListener("click", () => { sessionStorage.removeItem("hotline_token"); show(false); });
  $("new-call").addEventListener("click", newCall);
  $("refresh").addEventListener("click", loadHandoffs);

  $("analyze-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const said = $("utterance").value.trim();
    if (!said) return;
    text($("analyze-status"), "分析中…");
    try {
      last = await api("/api/copilot/analyze", { method: "POST",
        body: { text: said, conversation_id: $("call-id").textContent } });
      heard.push(said);
      $("summary").value = heard.join("；");
      $("utterance").value = "";
      render(last);
      text($("analyze-status"), "");
    } catch (err) { text($("analyze-status"), err.message); }
  });

  $("log-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const s = (last && last.slots) || {};
    const body = {
      outcome: $("outcome").value,
      summary: $("summary").value || null,
      category: (last && last.category) || null,
      migrant_worker: s.migrant_worker === true,
      persons: s.people_count || 1,
      street: s.street || null,
      community: s.community || null,
      amount: s.amount == null ? null : s.amount,
      eligibility: last && last.eligibility ? last.eligibility.verdict : null,
      legal_basis: last && last.eligibility ? (last.eligibility.basis || []).join("；") : null,
    };
    try {
      const row = await api("/api/consultations", { method: "POST", body: body });
      text($("log-status"), "已登记（编号 " + row.id + "）");
    } catch (err) { text($("log-status"), err.message); }
  });

  setInterval(() => { if (token()) loadHandoffs(); }, 30000);
  show(Boolean(token()));
})();
