"""Employers and contractors named in a message, by the shapes Chinese names of firms and foremen take.

The CRF learns employers from context, but a firm it has never seen ("广西宏达装饰工程有限公司") has a telltale
suffix, and a foreman is "包工头老韦" or "叫蒙老三". These rules add such spans when the learned extractor missed them.
"""
from __future__ import annotations

import re

from hotline_nlu.numbers import Found

_ORG_SUFFIX = (
    "有限责任公司|股份有限公司|有限公司|集团|公司|工程队|施工队|装修队|劳务队|建筑队|项目部|钢构厂|加工厂|制衣厂|"
    "服装厂|工厂|厂|物流|快递|酒店|饭店|餐馆|餐厅|超市|商行|门市部|工作室"
)
# Characters that end the run before a firm's name: verbs, pronouns and particles that never start a name.
_NAME_CHARS = r"[\u4e00-\u9fffA-Za-z0-9·（）()]"
_STOP = set("在是给被的了叫去到和跟帮我你他她们欠拖把说找那这个一家里上下从对向与及或还就都也又很太要想能会")
_ORG_RE = re.compile(rf"{_NAME_CHARS}{{2,16}}?(?:{_ORG_SUFFIX})")
_ROLE = r"(?:包工头|工头|老板|老板娘|带班的?|班组长|老总|负责人|老细|雇主|东家)"
_PERSON_RE = re.compile(
    rf"{_ROLE}(?:是|叫|姓|就是)?\s*((?:老|阿|小)[\u4e00-\u9fff]|[\u4e00-\u9fff]总|[\u4e00-\u9fff]老板)"
    rf"|(?:叫|名叫|名字叫)\s*([\u4e00-\u9fff]{{1,2}}老[一二三四五六七八九十大二三]|[\u4e00-\u9fff]{{2,3}})(?=[\s，,。的]|$)"
)
_GENERIC = {"公司", "工厂", "厂", "老板", "中心", "站", "物流", "快递", "超市", "饭店", "酒店", "餐馆", "项目部",
            "劳务公司", "建筑公司", "装修公司", "物业公司", "保险公司", "贷款公司", "网贷公司", "用人单位", "单位",
            "服务中心", "法律援助中心", "司法所", "派出所", "医院", "人社局", "仲裁委", "法院", "社区", "街道"}
_NOT_EMPLOYER = re.compile(r"(法律援助|司法|派出所|医院|法院|仲裁|人社|劳动局|监察|社区|街道|保险公司|贷款|网贷|银行|物业)")

# Runs that take a name's place but are none: question words (「顾问叫什么」) and runs that begin with a duration or
# hold a time word or a document (「做了两年厂里」, 「辞职以后公司」, 「离职证明公司」).
_NOT_A_NAME = re.compile(r"^(?:什么|哪个|哪家|哪位|谁|啥)|^[\d一二两三四五六七八九十几半]+[年个月天]|以后|之后|以前|证明")


def plausible_employer(name: str) -> bool:
    """False for spans that only look like an employer's name; used on the CRF's spans as well as on ours."""
    return not _NOT_A_NAME.search(name)


def _trim_left(span: str) -> str:
    """Drop leading stop characters: '在恒昌钢构厂' → '恒昌钢构厂'."""
    i = 0
    while i < len(span) - 1 and span[i] in _STOP:
        i += 1
    return span[i:]


def find_employers(text: str) -> list[Found]:
    """Employer spans by rule; conservative: generic words and public bodies are never employers."""
    if not isinstance(text, str) or not text:
        return []
    found: list[Found] = []
    for m in _ORG_RE.finditer(text):
        span = m.group(0)
        # The name is the last run of non-stop characters before the suffix.
        cut = max((i for i, ch in enumerate(span) if ch in _STOP), default=-1)
        name = _trim_left(span[cut + 1 :]) if cut >= 0 else _trim_left(span)
        start = m.end() - len(name)
        if name in _GENERIC or _NOT_EMPLOYER.search(name) or len(name) < 3 or not plausible_employer(name):
            continue
        found.append(Found("employer", start, m.end(), name, name))
    for m in _PERSON_RE.finditer(text):
        g = 1 if m.group(1) else 2
        name = m.group(g)
        if name and name not in _GENERIC and plausible_employer(name):
            found.append(Found("employer", m.start(g), m.end(g), name, name))
    # Overlapping candidates ("阿华装修队" and "阿华"): keep the longest.
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Found] = []
    for f in found:
        if not any(f.start < k.end and k.start < f.end for k in kept):
            kept.append(f)
    return kept
