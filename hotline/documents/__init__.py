"""Papers a citizen can take away (issue 25): the draft 劳动人事争议仲裁申请书 and a prefilled 法律援助申请表.

arbitration.py and legal_aid_form.py are pure (facts + law data → content with articles); render.py writes the
.docx (python-docx) and the PDF (LibreOffice headless converts that same .docx); reminders.py says when the
deadline reminders fall. The store (hotline/store/documents.py) keeps drafts with the personal fields encrypted.
"""
