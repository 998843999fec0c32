"""The drafts' content (issue 25): each figure from the facts and the law data, with its article; the files opened."""
from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import pytest
from docx import Document

from hotline.documents.arbitration import BLANK, Applicant, ClaimFacts, arbitration_draft, commission_for
from hotline.documents.legal_aid_form import NotEligible, legal_aid_form, wage_reason
from hotline.documents.render import arbitration_docx, docx_to_pdf, legal_aid_docx, soffice
from hotline.legal_aid import AidFacts, assess
from hotline.wage_claim import WageFacts

ON = dt.date(2026, 12, 7)
ME = Applicant(name="张三", sex="男", id_number="450202199001011234", phone="13977212345", address="柳州市城中区中南路1号")
FACTS = WageFacts(employer="恒通建筑公司", amount=35000, people_count=1, months_owed=5, employment_ended=True,
                  end_date=dt.date(2026, 10, 31), has_contract=False, evidence=("有欠条和微信聊天记录",),
                  street="中南街道", construction=False, migrant_worker=True)


def _claim(draft, word):
    return next(c for c in draft.claims if word in c.text)


def test_wage_claim_amount_deadline_and_articles():
    draft = arbitration_draft(FACTS, ME, ON)
    wages = draft.claims[0]
    assert wages.amount == 35000 and "35000元" in wages.text and wages.basis == ["《劳动合同法》第三十条"]
    assert draft.deadline == dt.date(2027, 10, 31)  # 第二十七条: one year from the end of the job
    assert "2027年10月31日" in draft.deadline_text and "《劳动争议调解仲裁法》第二十七条" in draft.deadline_text
    assert draft.evidence == ["欠条", "微信聊天记录"]
    assert "劳动合同" in draft.missing_evidence and "欠条" not in draft.missing_evidence
    assert [p.name for p in draft.respondents] == ["恒通建筑公司"]


def test_no_end_date_yet_gives_no_invented_deadline():
    facts = WageFacts(employer="某餐馆", amount=8000, employment_ended=True)
    draft = arbitration_draft(facts, ME, ON)
    assert draft.deadline is None
    assert any("工作结束的日期" in item for item in draft.for_person)


def test_double_wages_only_without_a_contract_months_computed():
    extra = ClaimFacts(start_date=dt.date(2026, 3, 1), monthly_wage=7000)
    draft = arbitration_draft(FACTS, ME, ON, extra)
    double = _claim(draft, "二倍工资")
    # March 1 to October 31 is 8 months of work: the 2nd to the 8th month is 7 months (第八十二条, at most 11).
    assert double.amount == 7 * 7000 and "7个月" in double.text
    assert double.basis == ["《劳动合同法》第八十二条"]
    assert draft.total == 35000 + 49000
    with_contract = arbitration_draft(WageFacts(**{**vars(FACTS), "has_contract": True}), ME, ON, extra)
    assert not any("二倍工资" in c.text for c in with_contract.claims)
    long = arbitration_draft(FACTS, ME, ON, ClaimFacts(start_date=dt.date(2024, 1, 1), monthly_wage=5000))
    assert _claim(long, "二倍工资").amount == 11 * 5000  # capped at eleven months


def test_double_wages_without_dates_is_a_blank_for_a_person():
    draft = arbitration_draft(FACTS, ME, ON)
    double = _claim(draft, "二倍工资")
    assert double.amount is None and BLANK in double.text
    assert any("入职日期" in item and "月工资" in item for item in draft.for_person)


def test_compensation_only_when_the_worker_quit_over_arrears():
    extra = ClaimFacts(start_date=dt.date(2025, 1, 10), monthly_wage=6000, resigned_for_arrears=True)
    facts = WageFacts(**{**vars(FACTS), "has_contract": True})
    draft = arbitration_draft(facts, ME, ON, extra)
    comp = _claim(draft, "经济补偿")
    # 1 year 9 months: a full year is one month, 6+ months count as a year (第四十七条) -> 2 months' wages.
    assert comp.amount == 12000
    assert comp.basis == ["《劳动合同法》第三十八条", "《劳动合同法》第四十六条", "《劳动合同法》第四十七条"]
    not_quit = arbitration_draft(facts, ME, ON, ClaimFacts(start_date=dt.date(2025, 1, 10), monthly_wage=6000))
    assert not any("经济补偿" in c.text for c in not_quit.claims)


def test_several_workers_each_file_their_own_share():
    facts = WageFacts(**{**vars(FACTS), "amount": 120000, "people_count": 12})
    wages = arbitration_draft(facts, ME, ON).claims[0]
    assert wages.amount == 10000 and wages.check


def test_construction_names_the_general_contractor_with_article_30():
    hired = {"hired_by": "company"} if "hired_by" in WageFacts.__dataclass_fields__ else {}  # a 分包单位 hired him
    facts = WageFacts(**{**vars(FACTS), "construction": True, **hired})
    draft = arbitration_draft(facts, ME, ON, ClaimFacts(general_contractor="广西某建工集团"))
    contractor = draft.respondents[1]
    assert contractor.name == "广西某建工集团" and contractor.basis == ["《保障农民工工资支付条例》第三十条"]
    assert "《保障农民工工资支付条例》第三十条" in draft.basis


@pytest.mark.skipif("hired_by" not in WageFacts.__dataclass_fields__, reason="issue 23's hired_by not landed yet")
def test_a_crew_boss_makes_whoever_let_him_the_work_answer():
    facts = WageFacts(**{**vars(FACTS), "construction": True, "hired_by": "person"})
    draft = arbitration_draft(facts, ME, ON, ClaimFacts(general_contractor="广西某建工集团"))
    assert draft.respondents[1].basis == ["《保障农民工工资支付条例》第三十六条"]
    assert "《保障农民工工资支付条例》第三十六条" in draft.basis


@pytest.mark.skipif("months_worked" not in WageFacts.__dataclass_fields__, reason="issue 23's months_worked not landed")
def test_double_wage_months_from_months_worked():
    facts = WageFacts(**{**vars(FACTS), "months_worked": 5})
    double = _claim(arbitration_draft(facts, ME, ON, ClaimFacts(monthly_wage=6000)), "二倍工资")
    assert double.amount == 4 * 6000 and "工作5个月" in double.text


def test_commission_from_data_unverified_goes_to_a_person():
    commission = commission_for("中南街道", ON)
    assert "城中区" in commission.name and commission.basis == ["《劳动争议调解仲裁法》第二十一条"]
    assert commission.verified is False
    assert any(commission.name in item for item in arbitration_draft(FACTS, ME, ON).for_person)


def test_missing_personal_fields_are_listed():
    draft = arbitration_draft(FACTS, Applicant(name="张三"), ON)
    assert any("身份证号" in item for item in draft.for_person)


def test_legal_aid_form_waiver_for_a_migrant_worker():
    facts = AidFacts(matter="wage_arrears", migrant_worker=True)
    form = legal_aid_form(assessment=assess(facts, ON), facts=facts, applicant=ME,
                          reason=wage_reason(employer="恒通建筑公司", amount=35000, months=5,
                                             end_date=dt.date(2026, 10, 31)), on=ON)
    assert form.verdict == "eligible" and form.matter == "追索劳动报酬"
    assert any("第四十二条" in b for b in form.exemption_basis) and "免予核查" in form.means
    assert "35000" in form.reason and "个人诚信" not in form.reason and "承诺" in form.pledge
    assert "《法律援助法》第四十一条" in form.basis


def test_legal_aid_form_means_statement_and_refusal():
    poor = AidFacts(matter="contract_debt", monthly_income=2000, household_size=4, has_valuable_assets=False)
    verdict = assess(poor, ON)
    if verdict.verdict == "ineligible":
        with pytest.raises(NotEligible):
            legal_aid_form(assessment=verdict, facts=poor, applicant=ME, reason="", on=ON)
    rich = AidFacts(matter="labor_relation", monthly_income=40000, household_size=1, has_valuable_assets=True)
    assert assess(rich, ON).verdict == "ineligible"
    with pytest.raises(NotEligible):
        legal_aid_form(assessment=assess(rich, ON), facts=rich, applicant=ME, reason="", on=ON)
    means_tested = AidFacts(matter="labor_relation", monthly_income=2000, household_size=4, has_valuable_assets=False)
    form = legal_aid_form(assessment=assess(means_tested, ON), facts=means_tested, applicant=ME, reason="x", on=ON)
    assert "家庭人口4人" in form.means and "人均月收入500元" in form.means


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_docx_holds_the_drafts_figures():
    draft = arbitration_draft(FACTS, ME, ON, ClaimFacts(start_date=dt.date(2026, 3, 1), monthly_wage=7000))
    text = _docx_text(arbitration_docx(draft))
    for expected in ("劳动人事争议仲裁申请书", "请在2027年10月31日之前递交申请", "450202199001011234", "恒通建筑公司",
                     "1. 请求裁决被申请人支付拖欠申请人的工资35000元", "49000元", "《劳动合同法》第八十二条",
                     "以上请求金额合计84000元", "欠条", "柳州市城中区劳动人事争议仲裁委员会（名称待核实）"):
        assert expected in text, expected
    facts = AidFacts(matter="wage_arrears", migrant_worker=True)
    form = legal_aid_form(assessment=assess(facts, ON), facts=facts, applicant=ME, reason="欠薪", on=ON)
    aid = _docx_text(legal_aid_docx(form))
    assert "法律援助申请表" in aid and "免予核查" in aid and "个人诚信承诺" in aid


@pytest.mark.skipif(soffice() is None or shutil.which("pdftotext") is None,
                    reason="LibreOffice or poppler-utils not installed (apt-get install libreoffice-writer-nogui "
                           "poppler-utils)")
def test_pdf_is_the_same_document(tmp_path):
    draft = arbitration_draft(FACTS, ME, ON)
    pdf = docx_to_pdf(arbitration_docx(draft))
    assert pdf.startswith(b"%PDF")
    (tmp_path / "a.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "a.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "35000" in text and "2027" in text and "仲裁申请书" in text.replace(" ", "")
