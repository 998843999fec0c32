"""The drafts as files: .docx written with python-docx, and the PDF a phone opens converted from that same .docx by
LibreOffice headless (one layout for both; measured against WeasyPrint in reports/documents_pdf.md).

The layout is the usual one of a 劳动人事争议仲裁委员会's form: title, the period's end date on the first page,
申请人 and 被申请人 tables, numbered 仲裁请求, 事实与理由, 证据清单, the commission, signature and date.
"""
from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

from docx import Document
from docx.document import Document as WordDocument  # the type; docx.Document is the function making one
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from hotline.documents.arbitration import BLANK, ArbitrationDraft, cn_date
from hotline.documents.legal_aid_form import LegalAidForm
from hotline.settings import get_settings

NOTICE = "本文书由12348法律服务助手根据您的陈述生成，仅为草稿，不是律师意见；递交前请核对每一项，签名并注明日期。"


class PdfUnavailable(RuntimeError):
    """LibreOffice (soffice) is not installed or failed: the .docx is still there."""


def _document() -> WordDocument:
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(2.2)
    section.top_margin = section.bottom_margin = Cm(2.0)
    font = get_settings().document_font
    style = doc.styles["Normal"]
    style.font.name = font
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), font)
    return doc


def _para(doc: WordDocument, text: str, *, bold: bool = False, size: float | None = None, center: bool = False,
          color: RGBColor | None = None, indent: bool = False) -> None:
    p = doc.add_paragraph()
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if indent:
        p.paragraph_format.first_line_indent = Pt(24)
    p.paragraph_format.space_after = Pt(4)
    run = p.add_run(text)
    run.bold = bold
    font = get_settings().document_font
    run.font.name = font
    run.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)  # made by font.name above
    if size:
        run.font.size = Pt(size)
    if color is not None:
        run.font.color.rgb = color


def _table(doc: WordDocument, rows: list[tuple[str, str]]) -> None:
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.autofit = False
    widths = (Cm(4.2), Cm(12.4))
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value or BLANK
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
        for cell in column.cells:  # Word reads the cells' widths, LibreOffice the grid's
            cell.width = width
    doc.add_paragraph()


def _bytes(doc: WordDocument) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


_RED = RGBColor(0xB0, 0x1E, 0x1E)


def arbitration_docx(draft: ArbitrationDraft) -> bytes:
    doc = _document()
    _para(doc, "劳动人事争议仲裁申请书", bold=True, size=20, center=True)
    _para(doc, "（草稿）" + NOTICE, size=9, center=True)
    if draft.deadline is not None:
        _para(doc, f"请在{cn_date(draft.deadline)}之前递交申请", bold=True, size=14, color=_RED)
    _para(doc, draft.deadline_text, size=10)
    c = draft.commission
    _para(doc, f"受理机构：{c.name}{'' if c.verified else '（名称待核实）'}"
               + (f"（{'、'.join(c.basis)}：干活所在地或老板所在地）" if c.basis else ""), size=10)
    a = draft.applicant
    _para(doc, "申请人", bold=True, size=14)
    _table(doc, [("姓名", a.name or ""), ("性别", a.sex or ""), ("身份证号码", a.id_number or ""),
                 ("联系电话", a.phone or ""), ("住址", a.address or "")])
    for i, party in enumerate(draft.respondents, 1):
        _para(doc, f"被申请人{'' if len(draft.respondents) == 1 else i}（{party.role}）", bold=True, size=14)
        why = party.why + (f"（{'、'.join(party.basis)}）" if party.basis else "")
        _table(doc, [("名称", party.name), ("住所地", ""), ("法定代表人/负责人", ""), ("联系电话", ""),
                     ("列为被申请人的理由", why)])
    _para(doc, "仲裁请求", bold=True, size=14)
    for i, claim in enumerate(draft.claims, 1):
        basis = f"（依据：{'、'.join(claim.basis)}）" if claim.basis else ""
        _para(doc, f"{i}. {claim.text}{basis}")
        if claim.check:
            _para(doc, f"   注意：{claim.check}", size=10, color=_RED)
    if draft.total:
        _para(doc, f"以上请求金额合计{draft.total}元。")
    _para(doc, "事实与理由", bold=True, size=14)
    for line in draft.facts_and_reasons:
        _para(doc, line, indent=True)
    _para(doc, "证据清单", bold=True, size=14)
    if draft.evidence:
        for i, item in enumerate(draft.evidence, 1):
            _para(doc, f"{i}. {item}（原件及复印件），证明劳动关系及欠薪事实")
    else:
        _para(doc, "（目前还没有证据，请尽快收集，见下方）")
    if draft.missing_evidence:
        _para(doc, "还可以补充的证据：" + "、".join(draft.missing_evidence), size=10)
    _para(doc, "此致", bold=True)
    _para(doc, c.name + ("" if c.verified else "（名称待核实）"), bold=True)
    _para(doc, f"申请人（签名）：{BLANK}        {BLANK}年{BLANK}月{BLANK}日")
    _para(doc, "提交时请附：申请书副本（按被申请人人数）、身份证复印件、证据材料复印件。", size=10)
    if c.address or c.phone:
        _para(doc, "受理机构：" + "，".join(x for x in (c.address, f"咨询电话{c.phone}" if c.phone else None) if x),
              size=10)
    if draft.for_person:
        _para(doc, "递交前请核对", bold=True, size=12, color=_RED)
        for item in draft.for_person:
            _para(doc, "□ " + item, size=10)
    _para(doc, "依据：" + "；".join(draft.basis), size=9)
    return _bytes(doc)


def legal_aid_docx(form: LegalAidForm) -> bytes:
    doc = _document()
    _para(doc, "法律援助申请表", bold=True, size=20, center=True)
    _para(doc, "（草稿）" + NOTICE, size=9, center=True)
    a = form.applicant
    _para(doc, "申请人基本情况", bold=True, size=14)
    _table(doc, [("姓名", a.name or ""), ("性别", a.sex or ""), ("身份证号码", a.id_number or ""),
                 ("联系电话", a.phone or ""), ("住所地（经常居住地）", a.address or "")])
    _para(doc, "申请事项", bold=True, size=14)
    _table(doc, [("案件类别", form.matter), ("申请事项", form.request)])
    _para(doc, "案情及申请理由", bold=True, size=14)
    _para(doc, form.reason, indent=True)
    _para(doc, "经济困难状况", bold=True, size=14)
    _para(doc, form.means, indent=True)
    _para(doc, "个人诚信承诺", bold=True, size=14)
    _para(doc, form.pledge, indent=True)
    _para(doc, f"申请人（签名）：{BLANK}        {BLANK}年{BLANK}月{BLANK}日")
    if form.for_person:
        _para(doc, "递交前请核对", bold=True, size=12, color=_RED)
        for item in form.for_person:
            _para(doc, "□ " + item, size=10)
    _para(doc, "依据：" + "；".join(form.basis), size=9)
    return _bytes(doc)


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(docx: bytes, *, timeout_s: float = 120) -> bytes:
    """The same document as PDF, by LibreOffice headless in a private profile (two conversions at once must not
    share one profile, or the second exits at once)."""
    binary = soffice()
    if binary is None:
        raise PdfUnavailable("LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui")
    with tempfile.TemporaryDirectory(prefix="hotline-doc-") as tmp:
        src = Path(tmp) / "draft.docx"
        src.write_bytes(docx)
        cmd = [binary, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", tmp, str(src)]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=timeout_s)
        except (subprocess.SubprocessError, OSError) as exc:
            raise PdfUnavailable(f"LibreOffice failed: {exc}") from exc
        pdf = Path(tmp) / "draft.pdf"
        if not pdf.exists():
            raise PdfUnavailable("LibreOffice wrote no PDF")
        return pdf.read_bytes()
