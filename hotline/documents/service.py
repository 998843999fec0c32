"""Making a citizen's drafts from the facts and keeping them sealed: one call for the chat's action and the console.

The PDF is made once, when the draft is made (LibreOffice costs ~2 s), and served from the store afterwards.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from hotline.documents import sealing
from hotline.documents.arbitration import Applicant, ClaimFacts, arbitration_draft
from hotline.documents.legal_aid_form import legal_aid_form, wage_reason
from hotline.documents.render import PdfUnavailable, arbitration_docx, docx_to_pdf, legal_aid_docx
from hotline.legal_aid import AidFacts
from hotline.settings import get_settings
from hotline.store import documents as store
from hotline.wage_claim import WageFacts, guidance

log = logging.getLogger(__name__)
LABELS = {"arbitration": "劳动仲裁申请书", "legal_aid": "法律援助申请表"}


def link_ttl_s() -> int:
    """How long a download link works: HOTLINE_DOCUMENT_LINK_TTL seconds, default one day."""
    return get_settings().document_link_ttl_s


@dataclass(frozen=True)
class MadeDraft:
    draft_id: int
    kind: str
    label: str
    deadline: dt.date | None
    has_pdf: bool
    for_person: tuple[str, ...]

    def link(self, fmt: str | None = None, *, base: str = "", now: float | None = None) -> str:
        """`{base}/api/documents/{token}`: the PDF when there is one (a phone opens it), else the .docx."""
        fmt = fmt or ("pdf" if self.has_pdf else "docx")
        return f"{base}/api/documents/{sealing.make_token(self.draft_id, fmt, ttl_s=link_ttl_s(), now=now)}"


def _pdf(docx: bytes) -> bytes | None:
    try:
        return docx_to_pdf(docx)
    except PdfUnavailable as exc:  # the .docx is still made and served
        log.warning("draft PDF not made: %s", exc)
        return None


def make_drafts(*, session: Session, facts: WageFacts, applicant: Applicant, on: dt.date, channel: str,
                sender_hash: str | None = None, operator: str | None = None, extra: ClaimFacts | None = None,
                pdf: bool = True) -> list[MadeDraft]:
    """The arbitration application, and the legal-aid form when the check said eligible or review; sealed."""
    made: list[MadeDraft] = []
    draft = arbitration_draft(facts, applicant, on, extra)
    docx = arbitration_docx(draft)
    row = store.save_draft(session=session, kind="arbitration", channel=channel, content=draft.to_dict(), docx=docx,
                           pdf=_pdf(docx) if pdf else None, sender_hash=sender_hash, operator=operator,
                           deadline=draft.deadline)
    made.append(MadeDraft(row.id, "arbitration", LABELS["arbitration"], draft.deadline, row.sealed_pdf is not None,
                          tuple(draft.for_person)))
    assessment = guidance(facts, on).legal_aid
    if assessment.verdict in ("eligible", "needs_review"):
        aid_facts = AidFacts(matter="wage_arrears", migrant_worker=facts.migrant_worker)
        form = legal_aid_form(assessment=assessment, facts=aid_facts, applicant=applicant, on=on,
                              reason=wage_reason(employer=facts.employer, amount=facts.amount,
                                                 months=facts.months_owed, end_date=facts.end_date))
        docx = legal_aid_docx(form)
        row = store.save_draft(session=session, kind="legal_aid", channel=channel, content=form.to_dict(),
                               docx=docx, pdf=_pdf(docx) if pdf else None, sender_hash=sender_hash,
                               operator=operator)
        made.append(MadeDraft(row.id, "legal_aid", LABELS["legal_aid"], None, row.sealed_pdf is not None,
                              tuple(form.for_person)))
    return made
