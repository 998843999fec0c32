// bot/static/text.js under node's own test runner (no browser, no npm): `node --test tests/js/`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { phoneSegments, fold, waited, queueOrder, fmt } = require("../../bot/static/text.js");

test("numbers to call are cut out with their dashes dropped from the tel", () => {
  assert.deepEqual(phoneSegments("请拨打0772-2812345或13977212345，也可以打12348。"), [
    { text: "请拨打" }, { tel: "07722812345", text: "0772-2812345" }, { text: "或" },
    { tel: "13977212345", text: "13977212345" }, { text: "，也可以打" }, { tel: "12348", text: "12348" },
    { text: "。" },
  ]);
});

test("a longer run of digits is no phone number, and text without numbers is one segment", () => {
  assert.deepEqual(phoneSegments("身份证450202199001011234"), [{ text: "身份证450202199001011234" }]);
  assert.deepEqual(phoneSegments("欠了三万五"), [{ text: "欠了三万五" }]);
  assert.deepEqual(phoneSegments(""), []);
});

test("the segments put back together are the text", () => {
  for (const s of ["110", "打110或120", "0772-2812345", "abc 12333 def", "金额2000元，电话13800138000"]) {
    assert.equal(phoneSegments(s).map((p) => p.text).join(""), s);
  }
});

test("a 【详细】 message folds behind its first line", () => {
  assert.deepEqual(fold("【详细】怎么申请仲裁\n第一步\n第二步"), { summary: "展开：怎么申请仲裁", body: "第一步\n第二步" });
  assert.deepEqual(fold("【详细】"), { summary: "展开：详细说明", body: "" });
  assert.equal(fold("普通回答"), null);
  assert.equal(fold("说明：【详细】在中间不折叠"), null);
});

test("waits read as an operator says them", () => {
  assert.equal(waited(0), "不到1分钟");
  assert.equal(waited(59), "不到1分钟");
  assert.equal(waited(60), "1分钟");
  assert.equal(waited(3599), "59分钟");
  assert.equal(waited(3600), "1小时0分钟");
  assert.equal(waited(5430), "1小时30分钟");
});

test("the queue shows waiting citizens oldest first, then the taken ones, and leaves its input alone", () => {
  const items = [
    { id: 3, status: "taken", created_at: "2026-12-07T08:00:00" },
    { id: 2, status: "waiting", created_at: "2026-12-07T09:05:00" },
    { id: 5, status: "waiting", created_at: "2026-12-07T09:00:00" },
    { id: 4, status: "waiting", created_at: "2026-12-07T09:00:00" },
  ];
  const before = JSON.stringify(items);
  assert.deepEqual(queueOrder(items).map((h) => h.id), [4, 5, 2, 3]);
  assert.equal(JSON.stringify(items), before);
});

test("facts show as 是/否, lists joined by 、, nothing for no value", () => {
  assert.equal(fmt(true), "是");
  assert.equal(fmt(false), "否");
  assert.equal(fmt(["elderly", "disabled"]), "elderly、disabled");
  assert.equal(fmt(null), "");
  assert.equal(fmt(undefined), "");
  assert.equal(fmt(0), "0");
  assert.equal(fmt(35000), "35000");
});
