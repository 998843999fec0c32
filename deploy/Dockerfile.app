# The web app, the action server, the Telegram bridge and the `hotline` CLI: one image, the command picks the role.
#   docker build -f deploy/Dockerfile.app -t hotline-app .
FROM python:3.10-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 HOTLINE_VAR_DIR=/var/lib/hotline
WORKDIR /srv/hotline
# The citizens' draft papers (issue 25): LibreOffice headless turns the .docx into the PDF a phone opens; Noto CJK
# draws the Chinese (reports/documents_pdf.md). The action server makes the drafts, so it needs them.
RUN apt-get update && apt-get install -y --no-install-recommends libreoffice-writer-nogui fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*
COPY requirements/app.txt requirements/app.txt
RUN pip install --no-cache-dir -r requirements/app.txt
COPY . .
RUN pip install --no-cache-dir --no-deps -e . -e ./nlu \
 && useradd --system --home /var/lib/hotline --create-home hotline
USER hotline
EXPOSE 8000 5055
# Default role: the web app, the one public door. Others: `python -m actions.server`, `python -m bot.telegram_bridge`.
CMD ["uvicorn", "bot.app:app", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]
