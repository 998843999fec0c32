"""Render both drafts for a sample wage claim and write their first pages as PNG into reports/screenshots/.

Run: .venv/bin/python scripts/document_screenshots.py   (needs soffice and pdftoppm: libreoffice-writer-nogui,
poppler-utils). The sample person is invented.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hotline.documents.arbitration import Applicant, ClaimFacts, arbitration_draft  # noqa: E402
from hotline.documents.legal_aid_form import legal_aid_form, wage_reason  # noqa: E402
from hotline.documents.render import arbitration_docx, docx_to_pdf, legal_aid_docx  # noqa: E402
from hotline.legal_aid import AidFacts, assess  # noqa: E402
from hotline.wage_claim import WageFacts  # noqa: E402

ON = dt.date(2026, 12, 7)
FACTS = WageFacts(employer="恒通建筑公司", amount=35000, people_count=1, months_owed=5, employment_ended=True,
                  end_date=dt.date(2026, 10, 31), has_contract=False, evidence=("欠条", "微信聊天记录"),
                  street="中南街道", construction=True, migrant_worker=True)
ME = Applicant(name="张三", sex="男", id_number="450202199001011234", phone="13977212345",
               address="柳州市城中区中南路1号")


def _png(pdf: bytes, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "d.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile",
                        str(Path(tmp) / "d.pdf"), str(out.with_suffix(""))], check=True)


def main() -> None:
    shots = ROOT / "reports" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    draft = arbitration_draft(FACTS, ME, ON, ClaimFacts(start_date=dt.date(2026, 3, 1), monthly_wage=7000,
                                                        general_contractor="广西某建工集团有限公司"))
    _png(docx_to_pdf(arbitration_docx(draft)), shots / "document_arbitration_p1.png")
    aid_facts = AidFacts(matter="wage_arrears", migrant_worker=True)
    form = legal_aid_form(assessment=assess(aid_facts, ON), facts=aid_facts, applicant=ME, on=ON,
                          reason=wage_reason(employer=FACTS.employer, amount=FACTS.amount, months=FACTS.months_owed,
                                             end_date=FACTS.end_date))
    _png(docx_to_pdf(legal_aid_docx(form)), shots / "document_legal_aid_p1.png")
    print("wrote", shots / "document_arbitration_p1.png", shots / "document_legal_aid_p1.png")


if __name__ == "__main__":
    main()
