#!/usr/bin/env bash
# Render a sample digest with the project's own code and screenshot it with headless Chromium.
# Usage: docs/make_screenshot.sh [WIDTH] [OUT.png]   (defaults: 700, docs/digest.png)
# Needs: the project venv (.venv) and chromium (apt-get install -y chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
WIDTH="${1:-700}"
OUT="${2:-docs/digest.png}"
HEIGHT="${HEIGHT:-1800}"
PY="${PY:-.venv/bin/python}"
SEEDS="${SEEDS:-../shared/seeds}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

"$PY" - "$SEEDS" "$WORK" <<'PYEOF'
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from newswatch.digest import Coverage, SentStory, SourceHealth, StoryItem, render_digest, select_digest

seeds, work = Path(sys.argv[1]), Path(sys.argv[2])


def seed(name: str, fallback_title: str) -> tuple[str, str]:
    files = sorted(seeds.glob(f"{name}_*.txt"))
    if not files:
        return fallback_title, fallback_title + ". " + "Texte indisponible."
    text = files[0].read_text(encoding="utf-8")
    return text.strip().splitlines()[0].strip(), text


t0, x0 = seed("000", "L’accord de Microsoft avec OpenAI n’était qu’une première étape")
t1, x1 = seed("001", "Microsoft travaillerait sur des modèles aussi performants que ceux d'OpenAI")
day = date(2024, 11, 5)
at = lambda h, m=0: datetime(2024, 11, 5, h, m, tzinfo=UTC)  # noqa: E731
both = ("ai_partnership", "inhouse_model")
stories = [
    StoryItem(
        "s-maiphi", "a1", t1, "https://www.lesnumeriques.com/intelligence-artificielle/microsoft-mai.html",
        "lesnumeriques", "fr", at(7, 42), at(7, 50), x1, both,
        {"ai_partnership": 0.93, "inhouse_model": 0.95},
        ("Microsoft ↔ OpenAI · investment", "Microsoft · MAI", "Microsoft · Phi"),
        frozenset({"pair:microsoft|openai", "model:microsoft|mai", "model:microsoft|phi"}),
        (
            Coverage("The Information", "Microsoft Developing AI Reasoning Models to Compete With OpenAI",
                     "https://www.theinformation.com/articles/microsoft-mai", "en", at(6, 5)),
            Coverage("Reuters", "Microsoft developing in-house reasoning models, The Information reports",
                     "https://www.reuters.com/technology/microsoft-mai", "en", at(9, 30)),
            Coverage("Le Monde Informatique", "Microsoft veut s’affranchir d’OpenAI",
                     "https://www.lemondeinformatique.fr/actualites/microsoft-mai", "fr", at(11, 0)),
        ),
    ),
    StoryItem(
        "s-accord", "a2", t0, "https://www.xataka.fr/ia/accord-microsoft-openai-premiere-etape",
        "xataka-fr", "fr", at(5, 10), at(5, 20), x0, both,
        {"ai_partnership": 0.88, "inhouse_model": 0.81},
        ("Microsoft ↔ OpenAI · investment", "Microsoft · MAI-1", "Microsoft · Phi-3"),
        frozenset({"pair:microsoft|openai", "model:microsoft|mai-1", "model:microsoft|phi-3"}),
        (Coverage("Wall Street Journal", "Microsoft’s AI Ambitions Go Beyond OpenAI",
                  "https://www.wsj.com/tech/ai/microsoft-openai", "en", at(4, 0)),),
    ),
    StoryItem(
        "s-mistral", "a3", "Mistral AI and Microsoft expand partnership: Mistral Large 2 lands on Azure",
        "https://techcrunch.com/2024/11/05/mistral-microsoft-azure/", "techcrunch", "en", at(14, 12),
        at(14, 20),
        "Mistral AI and Microsoft said on Tuesday they would extend their multi-year partnership, bringing "
        "Mistral Large 2 to Azure AI Studio. Microsoft will also take a small stake in the Paris-based start-up, "
        "the companies said. The deal gives Mistral access to Azure supercomputing to train its next models. "
        "Regulators in the UK had looked at the earlier investment and found no merger.",
        ("ai_partnership",), {"ai_partnership": 0.91},
        ("Microsoft ↔ Mistral AI · investment", "Mistral AI ↔ Microsoft · cloud hosting"),
        frozenset({"pair:microsoft|mistral ai"}),
        (Coverage("Les Echos", "Mistral AI renforce son alliance avec Microsoft",
                  "https://www.lesechos.fr/tech-medias/mistral-microsoft", "fr", at(15, 2)),
         Coverage("heise online", "Mistral und Microsoft bauen Partnerschaft aus",
                  "https://www.heise.de/news/mistral-microsoft", "de", at(16, 40))),
    ),
    StoryItem(
        "s-amazon", "a4", "Amazon readies “Olympus”, its own large language model, to reduce reliance on Anthropic",
        "https://www.theverge.com/2024/11/5/amazon-olympus", "theverge", "en", at(17, 3), at(17, 10),
        "Amazon is training its own large language model, code-named Olympus, according to two people "
        "familiar with the project. The model is meant to power Alexa and AWS services. Amazon has invested "
        "$8 billion in Anthropic, but wants an in-house option. Olympus could be announced in December.",
        ("inhouse_model",), {"inhouse_model": 0.86},
        ("Amazon · Olympus",), frozenset({"model:amazon|olympus"}), (),
    ),
    StoryItem(
        "s-apple", "a5", "Apple and OpenAI: ChatGPT arrives in iOS 18.2, Google Gemini to follow",
        "https://www.macg.co/ios/2024/11/chatgpt-ios-18-2", "macg", "fr", at(9, 0), at(9, 15),
        "Apple publie la bêta d’iOS 18.2 avec l’intégration de ChatGPT dans Siri. L’accord entre Apple et "
        "OpenAI ne prévoit aucun paiement, selon Bloomberg. Google Gemini devrait suivre l’an prochain.",
        ("ai_partnership",), {"ai_partnership": 0.79},
        ("Apple ↔ OpenAI · integration", "Apple ↔ Google · integration"),
        frozenset({"pair:apple|openai", "pair:apple|google"}),
        (Coverage("Bloomberg", "Apple Brings ChatGPT to iPhone", "https://www.bloomberg.com/news/apple-chatgpt",
                  "en", at(10, 0)),
         Coverage("9to5Mac", "iOS 18.2 beta: ChatGPT in Siri", "https://9to5mac.com/ios-18-2-chatgpt", "en",
                  at(10, 30))),
    ),
]
sent = [SentStory("s-apple", date(2024, 10, 30), frozenset({"pair:apple|openai"}), 1)]
known = frozenset({"pair:microsoft|openai", "model:microsoft|phi", "model:microsoft|phi-3", "pair:apple|openai",
                   "pair:microsoft|mistral ai"})
health = [
    SourceHealth("techcrunch", 0, 48, None, timedelta(minutes=20), timedelta(hours=1)),
    SourceHealth("golem-de", 48, 0, "connect_error: connection refused (www.golem.de:443)", None, None),
    SourceHealth("zdnet-fr", 0, 48, None, timedelta(days=3), timedelta(hours=6)),
]
d = select_digest(day, "Europe/Paris", stories, sent, known, health, 40)
html, text = render_digest(d)
(work / "digest.html").write_text(html, encoding="utf-8")
(work / "digest.txt").write_text(text, encoding="utf-8")
print(d.subject)
PYEOF

cp "$WORK/digest.txt" "${OUT%.png}.txt"
CHROME="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [ -z "$CHROME" ]; then
  echo "chromium not found (apt-get install -y chromium); HTML left at ${OUT%.png}.html" >&2
  cp "$WORK/digest.html" "${OUT%.png}.html"
  exit 1
fi
"$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --disable-sync --no-first-run --hide-scrollbars --user-data-dir="$(mktemp -d -p "$WORK")" \
  --screenshot="$OUT" --window-size="$WIDTH,$HEIGHT" "file://$WORK/digest.html" 2>/dev/null
echo "wrote $OUT (${WIDTH}x$HEIGHT)"
