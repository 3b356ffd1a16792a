"""Load all-MiniLM-L6-v2 the ways users do and print what it computes (run as a script).

    python real_model_probe.py DIR_OR_REPO_ID [...]

For each argument, a folder or a repo id (then found through ``HF_HUB_CACHE``,
offline), prints one JSON object: the sentence-transformers embeddings and the
transformers mean-pooled hidden states of a few sentences, as lists of floats.
The test compares them between the original files and what modelpm placed.
"""

from __future__ import annotations

import json
import sys

SENTENCES = ["modelpm pins every byte.", "A package manager for models.", "Ünïcödé too."]


def probe(where: str) -> dict[str, list[list[float]]]:
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(0)
    st = SentenceTransformer(where, device="cpu")
    embeddings = st.encode(SENTENCES, convert_to_numpy=True).tolist()
    tokenizer = AutoTokenizer.from_pretrained(where)
    model = AutoModel.from_pretrained(where).eval()
    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = ((hidden * mask).sum(1) / mask.sum(1)).tolist()
    return {"sentence_transformers": embeddings, "transformers": pooled}


def main() -> None:
    print(json.dumps({where: probe(where) for where in sys.argv[1:]}))


if __name__ == "__main__":
    main()
