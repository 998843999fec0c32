// The operator console's 「生成仲裁申请书」 (issue 25): the same drafts a citizen gets in the chat, from the facts
// shown in the copilot (the editable fields of #facts-form) and the caller's details typed here.
// POST /api/documents; the answer's links open the files. Kept apart from console.js.
(function () {
  "use strict";
  const FIELDS = [["name", "姓名"], ["sex", "性别"], ["id_number", "身份证号"], ["phone", "电话"], ["address", "住址"]];
  const EXTRA = [["end_date", "离职日期", "date"], ["start_date", "入职日期", "date"], ["monthly_wage", "月工资（元）", "number"],
                 ["general_contractor", "施工总承包单位", "text"]];

  function csrf() {
    const m = document.cookie.match(/(?:^|;\s*)hotline_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function el(tag, text) {
    const e = document.createElement(tag);
    if (text != null) e.textContent = text;
    return e;
  }

  function slots() {
    const out = {};
    for (const input of document.querySelectorAll("#facts-form [data-slot]")) {
      const v = input.value;
      if (v === "" || v == null) continue;
      out[input.dataset.slot] = v === "true" ? true : v === "false" ? false : v;
    }
    return out;
  }

  function build(anchor) {
    const box = el("details");
    box.className = "box";
    box.appendChild(el("summary", "生成仲裁申请书草稿"));
    const form = el("form");
    const inputs = {};
    for (const [key, label, type] of [...FIELDS.map(([k, l]) => [k, l, "text"]), ...EXTRA]) {
      const lab = el("label", label + " ");
      const input = el("input");
      input.type = type;
      input.name = key;
      lab.appendChild(input);
      form.appendChild(lab);
      inputs[key] = input;
    }
    const go = el("button", "生成");
    go.type = "submit";
    const status = el("p");
    status.setAttribute("role", "status");
    const links = el("ul");
    form.append(go, status, links);
    box.appendChild(form);
    anchor.after(box);

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      status.textContent = "正在生成…";
      links.replaceChildren();
      const applicant = {}, extra = {};
      for (const [k] of FIELDS) if (inputs[k].value) applicant[k] = inputs[k].value;
      for (const [k, , type] of EXTRA) if (inputs[k].value) extra[k] = type === "number" ? Number(inputs[k].value) : inputs[k].value;
      try {
        const resp = await fetch("/api/documents", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
          body: JSON.stringify({ slots: slots(), applicant: applicant, extra: extra }),
        });
        if (!resp.ok) { status.textContent = "生成失败（" + resp.status + "）"; return; }
        const data = await resp.json();
        status.textContent = "已生成，链接有效期内可打开：";
        for (const d of data.documents) {
          const li = el("li", d.label + "：");
          for (const [fmt, url] of [["PDF", d.pdf], ["Word", d.docx]]) {
            if (!url) continue;
            const a = el("a", fmt);
            a.href = url; a.target = "_blank"; a.rel = "noopener";
            li.append(a, document.createTextNode(" "));
          }
          if (d.for_person && d.for_person.length) li.appendChild(el("div", "请核对：" + d.for_person.join("；")));
          links.appendChild(li);
        }
      } catch (err) {
        status.textContent = "生成失败：网络错误";
      }
    });
  }

  function start() {
    const facts = document.getElementById("facts-form");
    if (facts) build(facts);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
