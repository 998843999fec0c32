// The dashboard's year panels (the 统计 tab): the report table with last year's figures and the 同比, what the
// assistant answered itself, the services with 件 and 人次, and the advisor network (一村（社区）一法律顾问).
// Kept apart from console.js, which owns the login, the queue and the copilot; it reads the same session cookie.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const CHANNEL = { wechat: "微信", web: "网页", telegram: "Telegram" };

  async function api(path, params) {
    const query = new URLSearchParams(params || {}).toString();
    const resp = await fetch(path + (query ? "?" + query : ""), { credentials: "same-origin" });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(data.message || data.detail || "请求失败");
    return data;
  }

  function el(tag, cls, value) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (value != null) e.textContent = String(value);
    return e;
  }

  function table(headers, rows, numeric) {
    const t = el("table", "counts");
    const head = el("tr");
    headers.forEach((h, i) => head.appendChild(el("th", i && numeric ? "n" : null, h)));
    t.appendChild(head);
    for (const row of rows) {
      const tr = el("tr");
      row.cells.forEach((c, i) => tr.appendChild(el("td", i && numeric ? "n" : null, c)));
      if (row.cls) tr.className = row.cls;
      t.appendChild(tr);
    }
    return t;
  }

  function changeClass(change) {
    if (!change) return "";
    if (change.startsWith("增长") || change.startsWith("上升") || change === "新增") return "up";
    if (change.startsWith("下降")) return "down";
    return "";
  }

  function drawFigures(d) {
    const f = d.figures;
    const yoy = f.previous_year !== null;
    const headers = yoy ? ["指标", d.year + "年", f.previous_year + "年", "同比"] : ["指标", d.year + "年"];
    const t = table(headers, f.rows.map((r) => ({
      cells: yoy ? [r.label, r.value, r.previous, r.change] : [r.label, r.value],
    })), true);
    if (yoy) {
      t.querySelectorAll("tr").forEach((tr, i) => {
        if (i) tr.lastChild.classList.add("yoy", changeClass(f.rows[i - 1].change) || "flat");
      });
    }
    t.id = "figures-table";
    $("figures").replaceChildren(t);
    $("figures-note").textContent = yoy ? "同比：与" + f.previous_year + "年同一指标相比。"
      : (d.year - 1) + "年没有记录，不显示同比。";
    const a = d.assistant;
    const channels = Object.entries(a.by_channel).filter(([, n]) => n).map(([ch, n]) => (CHANNEL[ch] || ch) + n + "人次");
    $("assistant").textContent = a.consultations
      ? a.sentence + "。" : d.year + "年智能助手尚无在线解答记录。";
    $("assistant").title = channels.join("、");
    $("services").replaceChildren(table(["服务类型", "件数", "人次"],
      d.services.map((s) => ({ cells: [s.label, s.count, s.persons] })), true));
  }

  function drawAdvisors(r) {
    $("advisor-summary").textContent = r.summary;
    $("advisor-coverage").textContent = r.coverage === null ? "—" : r.coverage + "%";
    const rows = [];
    for (const s of r.streets) {
      rows.push({ cells: [s.street, "", s.consultations, s.mediations, s.idle.length ? s.idle.join("、") : "—"],
        cls: "street" });
      for (const line of s.lines) {
        rows.push({ cells: ["　" + line.community, line.advisor || "—", line.consultations, line.mediations, line.note],
          cls: line.note ? "idle" : "" });
      }
    }
    const t = table(["街道 / 村（社区）", "法律顾问", "咨询", "调解", "全年无咨询 / 备注"], rows, false);
    t.id = "advisor-table";
    $("advisor-network").replaceChildren(t);
    $("advisor-xlsx").href = "/api/dashboard/advisors?year=" + r.year + "&format=xlsx";
  }

  async function load() {
    const year = Number($("dash-year").value) || new Date().getFullYear();
    $("year-status").textContent = "正在读取…";
    try {
      const [figures, network] = await Promise.all([
        api("/api/dashboard/figures", { year: year }),
        api("/api/dashboard/advisors", { year: year }),
      ]);
      drawFigures(figures);
      drawAdvisors(network);
      $("year-status").textContent = "";
    } catch (err) { $("year-status").textContent = err.message; }
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!$("dash-year")) return;
    $("dash-year").value = new Date().getFullYear();
    $("dash-year").addEventListener("change", load);
    for (const b of document.querySelectorAll('.tab[data-tab="stats-panel"]')) b.addEventListener("click", load);
  });
})();
