"""``weights`` and ``variant`` as tables, on listings modelled on real repos (pure, no I/O).

Each listing is the file list of a well-known repo (trimmed where it repeats itself),
with the small JSON files the rules read. The rules see only paths, sizes and the
bytes they ask ``read`` for; every read is recorded, so a test can also say which
files a choice had to look at.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping

import pytest

from modelpm.select.choice import Weights
from modelpm.select.rules import Decision, NoFit
from modelpm.select.weights import WeightsSelection, guarded, select_weights

GB = 1_000_000_000


class Repo:
    """A listing: path → size, plus the contents of the files a rule may read."""

    def __init__(
        self, files: Mapping[str, int], contents: Mapping[str, object] | None = None
    ) -> None:
        self.contents = {
            path: json.dumps(value).encode() for path, value in (contents or {}).items()
        }
        self.files = {**dict(files), **{path: len(data) for path, data in self.contents.items()}}
        self.reads: list[str] = []

    def read(self, path: str) -> bytes:
        self.reads.append(path)
        return self.contents[path]

    def select(self, weights: str = "auto", variant: str | None = None) -> WeightsSelection:
        listing = sorted(self.files.items())
        return select_weights(listing, Weights.parse(weights), variant, self.read)

    def kept(self, weights: str = "auto", variant: str | None = None) -> set[str]:
        return set(self.select(weights, variant).kept)

    def skipped(self, weights: str = "auto", variant: str | None = None) -> set[str]:
        return {path for path, _reason in self.select(weights, variant).skipped}


TEXT = {"README.md": 10_000, ".gitattributes": 1_500, "LICENSE": 11_000}
TOKENIZER = {"tokenizer.json": 466_000, "tokenizer_config.json": 300, "vocab.txt": 231_000}

COREML = "coreml/fill-mask/float32_model.mlpackage/Data/com.apple.CoreML"

# google-bert/bert-base-uncased: five formats of the same weights, plus Core ML and ONNX.
BERT = Repo(
    {
        **TEXT,
        **TOKENIZER,
        "config.json": 570,
        "model.safetensors": 440_449_768,
        "pytorch_model.bin": 440_473_133,
        "tf_model.h5": 536_063_208,
        "flax_model.msgpack": 438_064_459,
        "rust_model.ot": 534_240_408,
        "model.onnx": 532_091_246,
        "coreml/fill-mask/float32_model.mlpackage/Manifest.json": 617,
        f"{COREML}/model.mlmodel": 164_911,
        f"{COREML}/weights/weight.bin": 531_957_000,
    }
)
BERT_TEXT = {*TEXT, *TOKENIZER, "config.json"}

# A sharded LLM (Mistral/Llama 3 style): HF shards + index, a consolidated copy, original/.
SHARDS = [f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)]
LLM = Repo(
    {
        **TEXT,
        "config.json": 601,
        "generation_config.json": 116,
        "tokenizer.json": 1_961_548,
        "tokenizer_config.json": 137_000,
        "special_tokens_map.json": 414,
        **dict.fromkeys(SHARDS, 4_949_453_792),
        "consolidated.safetensors": 14_496_078_512,
        "params.json": 202,
        "original/consolidated.00.pth": 16_060_617_592,
        "original/params.json": 211,
        "original/tokenizer.model": 2_183_982,
        **{f"pytorch_model-0000{i}-of-00003.bin": 4_943_162_336 for i in (1, 2, 3)},
        "pytorch_model.bin.index.json": 23_950,
        "training_args.bin": 4_600,
        "optimizer.pt": 28_000_000_000,
    },
    {
        "model.safetensors.index.json": {
            "metadata": {"total_size": 14483464192},
            "weight_map": {f"layer.{i}": SHARDS[i % 3] for i in range(30)},
        },
    },
)

# stable-diffusion-v1-5: components with plain and fp16 weights in two formats, Flax, and
# single-file checkpoints at the root.
COMPONENTS = {
    "feature_extractor": ["transformers", "CLIPImageProcessor"],
    "safety_checker": ["stable_diffusion", "StableDiffusionSafetyChecker"],
    "scheduler": ["diffusers", "PNDMScheduler"],
    "text_encoder": ["transformers", "CLIPTextModel"],
    "tokenizer": ["transformers", "CLIPTokenizer"],
    "unet": ["diffusers", "UNet2DConditionModel"],
    "vae": ["diffusers", "AutoencoderKL"],
}
SD_FILES: dict[str, int] = {
    **TEXT,
    "feature_extractor/preprocessor_config.json": 342,
    "scheduler/scheduler_config.json": 308,
    "tokenizer/merges.txt": 524_619,
    "tokenizer/vocab.json": 1_059_962,
    "tokenizer/special_tokens_map.json": 472,
    "tokenizer/tokenizer_config.json": 806,
    "v1-5-pruned-emaonly.safetensors": 4_265_146_304,
    "v1-5-pruned.ckpt": 7_703_807_346,
    "v1-5-pruned-emaonly.ckpt": 4_265_380_512,
}
for component, stem in (
    ("safety_checker", "model"),
    ("text_encoder", "model"),
    ("unet", "diffusion_pytorch_model"),
    ("vae", "diffusion_pytorch_model"),
):
    pickled = "pytorch_model" if stem == "model" else stem
    SD_FILES[f"{component}/config.json"] = 4_000
    SD_FILES[f"{component}/{stem}.safetensors"] = 1_000_000_000
    SD_FILES[f"{component}/{stem}.fp16.safetensors"] = 500_000_000
    SD_FILES[f"{component}/{pickled}.bin"] = 1_000_000_100
    SD_FILES[f"{component}/{pickled}.fp16.bin"] = 500_000_100
    flax = "flax_model" if stem == "model" else "diffusion_flax_model"
    SD_FILES[f"{component}/{flax}.msgpack"] = 1_000_000_200
SD_INDEX = {"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.6.0", **COMPONENTS}
SD = Repo(SD_FILES, {"model_index.json": SD_INDEX})
SD_WEIGHTS = (".safetensors", ".bin", ".msgpack", ".ckpt")

# sentence-transformers/all-MiniLM-L6-v2: the Transformer module at the root, Pooling in
# its folder, and ONNX/OpenVINO copies for the other backends.
MINILM_FILES = {
    **TEXT,
    **TOKENIZER,
    "1_Pooling/config.json": 190,
    "config.json": 612,
    "config_sentence_transformers.json": 116,
    "data_config.json": 39_265,
    "model.safetensors": 90_868_376,
    "onnx/model.onnx": 90_405_214,
    "onnx/model_O1.onnx": 90_360_328,
    "onnx/model_qint8_avx512.onnx": 23_026_053,
    "openvino/openvino_model.bin": 90_265_744,
    "openvino/openvino_model.xml": 211_315,
    "pytorch_model.bin": 90_888_945,
    "rust_model.ot": 90_887_379,
    "sentence_bert_config.json": 53,
    "special_tokens_map.json": 112,
    "tf_model.h5": 91_005_696,
    "train_script.py": 13_156,
}
MODULES = [
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    {
        "idx": 2,
        "name": "2",
        "path": "2_Normalize",
        "type": "sentence_transformers.models.Normalize",
    },
]
MINILM = Repo(MINILM_FILES, {"modules.json": MODULES})

# TheBloke/Llama-2-7B-GGUF: ten quants of one model.
QUANTS = [
    "Q2_K",
    "Q3_K_S",
    "Q3_K_M",
    "Q3_K_L",
    "Q4_0",
    "Q4_K_S",
    "Q4_K_M",
    "Q5_0",
    "Q5_K_M",
    "Q8_0",
]
GGUF = Repo(
    {
        "README.md": 25_000,
        "LICENSE.txt": 7_020,
        "config.json": 29,
        **{f"llama-2-7b.{quant}.gguf": 2_800_000_000 + i for i, quant in enumerate(QUANTS)},
    }
)

# A legacy model with pickled weights only (the way many 2020 repos are).
LEGACY = Repo(
    {
        **TEXT,
        "config.json": 665,
        "pytorch_model.bin": 548_118_077,
        "vocab.json": 1_042_301,
        "merges.txt": 456_318,
        "training_args.bin": 1_839,
    }
)


def paths(*names: Iterable[str] | str) -> set[str]:
    found: set[str] = set()
    for name in names:
        found.update([name] if isinstance(name, str) else name)
    return found


@pytest.mark.parametrize(
    ("repo", "weights", "variant", "expected"),
    [
        # A BERT: safetensors, never the .bin, TF, Flax, Rust, ONNX or Core ML copies.
        (BERT, "auto", None, paths(BERT_TEXT, "model.safetensors")),
        (BERT, "safetensors", None, paths(BERT_TEXT, "model.safetensors")),
        (BERT, "pytorch", None, paths(BERT_TEXT, "pytorch_model.bin")),
        (BERT, "all", None, set(BERT.files)),
        # A sharded LLM: the index and exactly its shards; not the consolidated copy, not
        # original/, not the pickled shards, not the training state.
        (
            LLM,
            "auto",
            None,
            paths(
                TEXT,
                SHARDS,
                "model.safetensors.index.json",
                "config.json",
                "generation_config.json",
                "tokenizer.json",
                "tokenizer_config.json",
                "special_tokens_map.json",
                "params.json",
            ),
        ),
        # A diffusers pipeline: each component's plain safetensors, or its fp16 ones.
        (
            SD,
            "auto",
            None,
            {
                path
                for path in SD.files
                if not path.endswith((".bin", ".msgpack", ".ckpt"))
                and ".fp16." not in path
                and path != "v1-5-pruned-emaonly.safetensors"
            },
        ),
        (
            SD,
            "auto",
            "fp16",
            {
                path
                for path in SD.files
                if ((".fp16.safetensors" in path or not path.endswith(SD_WEIGHTS)) and "/" in path)
                or path in (*TEXT, "model_index.json")
            },
        ),
        # sentence-transformers: its module folders, not the ONNX/OpenVINO backends' copies.
        (
            MINILM,
            "auto",
            None,
            paths(
                TEXT,
                TOKENIZER,
                "1_Pooling/config.json",
                "config.json",
                "config_sentence_transformers.json",
                "data_config.json",
                "model.safetensors",
                "modules.json",
                "sentence_bert_config.json",
                "special_tokens_map.json",
                "train_script.py",
            ),
        ),
        # GGUF: one quant, however it is spelled.
        (
            GGUF,
            "gguf:Q4_K_M",
            None,
            paths("README.md", "LICENSE.txt", "config.json", "llama-2-7b.Q4_K_M.gguf"),
        ),
        (
            GGUF,
            "gguf:q4_k_m",
            None,
            paths("README.md", "LICENSE.txt", "config.json", "llama-2-7b.Q4_K_M.gguf"),
        ),
        # Legacy .bin-only: the .bin is the only copy, so it is kept (the training state not).
        (LEGACY, "auto", None, set(LEGACY.files) - {"training_args.bin"}),
        (LEGACY, "pytorch", None, set(LEGACY.files) - {"training_args.bin"}),
    ],
    ids=[
        "bert-auto",
        "bert-safetensors",
        "bert-pytorch",
        "bert-all",
        "llm-auto",
        "sd-auto",
        "sd-fp16",
        "minilm-auto",
        "gguf-quant",
        "gguf-quant-lowercase",
        "legacy-auto",
        "legacy-pytorch",
    ],
)
def test_what_each_choice_keeps(
    repo: Repo, weights: str, variant: str | None, expected: set[str]
) -> None:
    selection = repo.select(weights, variant)
    assert set(selection.kept) == expected
    assert {path for path, _ in selection.skipped} == set(repo.files) - expected


def test_the_bert_saving_is_what_the_issue_promises() -> None:
    selection = BERT.select()
    saved = sum(BERT.files[path] for path, _ in selection.skipped)
    reasons = dict(selection.skipped)
    assert reasons["tf_model.h5"] == "TensorFlow copy"
    assert reasons["flax_model.msgpack"] == "Flax copy"
    assert reasons["rust_model.ot"] == "Rust copy"
    assert reasons["pytorch_model.bin"] == "PyTorch .bin copy"
    assert saved > 2.4 * GB
    assert BERT.reads == []  # a single-file model needs no file read


def test_shards_come_from_the_index_and_only_from_it() -> None:
    LLM.reads.clear()
    kept = LLM.kept()
    assert LLM.reads == ["model.safetensors.index.json"]
    two = Repo(
        {**dict.fromkeys(SHARDS, 10), "config.json": 1},
        {"model.safetensors.index.json": {"weight_map": {"a": SHARDS[0], "b": SHARDS[1]}}},
    )
    assert two.skipped() == {SHARDS[2]}
    assert set(SHARDS) <= kept


def test_an_index_naming_a_missing_shard_is_refused() -> None:
    broken = Repo(
        {SHARDS[0]: 10},
        {"model.safetensors.index.json": {"weight_map": {"a": SHARDS[0], "b": SHARDS[1]}}},
    )
    with pytest.raises(NoFit, match=r"lists 'model-00002-of-00003.safetensors'.*does not have"):
        broken.select()
    garbage = Repo({SHARDS[0]: 10, "model.safetensors.index.json": 5})
    garbage.contents["model.safetensors.index.json"] = b"{nope"
    with pytest.raises(NoFit, match="is not valid JSON"):
        garbage.select()


def test_a_single_file_wins_over_shards_as_in_transformers() -> None:
    both = Repo(
        {"model.safetensors": 30, **dict.fromkeys(SHARDS, 10)},
        {"model.safetensors.index.json": {"weight_map": {"a": SHARDS[0]}}},
    )
    assert both.kept() == {"model.safetensors"}
    assert both.reads == []


def test_transformers_variants() -> None:
    repo = Repo({"config.json": 1, "model.safetensors": 20, "model.fp16.safetensors": 10})
    assert repo.kept() == {"config.json", "model.safetensors"}
    assert repo.kept(variant="fp16") == {"config.json", "model.fp16.safetensors"}
    with pytest.raises(NoFit, match=r"no bf16 variant .* \(variants there: fp16\)"):
        repo.select(variant="bf16")
    only = Repo({"config.json": 1, "model.fp16.safetensors": 10})
    with pytest.raises(NoFit, match="only variant weights") as caught:
        only.select()
    assert caught.value.hint == 'set variant = "fp16"'
    sharded = Repo(
        {"model.fp16-00001-of-00002.safetensors": 1, "model.fp16-00002-of-00002.safetensors": 1},
        {
            "model.safetensors.index.fp16.json": {
                "weight_map": {
                    "a": "model.fp16-00001-of-00002.safetensors",
                    "b": "model.fp16-00002-of-00002.safetensors",
                }
            }
        },
    )
    assert sharded.skipped(variant="fp16") == set()


def test_a_pipeline_with_mixed_variants_is_refused() -> None:
    files = {
        path: size
        for path, size in SD.files.items()
        if path != "vae/diffusion_pytorch_model.fp16.safetensors"
    }
    files.pop("vae/diffusion_pytorch_model.fp16.bin")
    mixed = Repo(files, {"model_index.json": SD_INDEX})
    with pytest.raises(NoFit, match=r"variant 'fp16' is missing in vae: .*mixed variants"):
        mixed.select(variant="fp16")
    assert "vae/diffusion_pytorch_model.safetensors" in mixed.kept()  # no variant: fine
    only_fp16 = {
        path: size
        for path, size in SD.files.items()
        if not path.startswith("unet/") or ".fp16." in path
    }
    with pytest.raises(NoFit, match=r"mixed variants: unet \(fp16\) only variant weights"):
        Repo({**only_fp16, "unet/config.json": 1}, {"model_index.json": SD_INDEX}).select()


def test_a_sentence_transformers_module_keeps_its_own_only_copy() -> None:
    dense = {"idx": 3, "path": "2_Dense", "type": "…Dense"}
    repo = Repo(
        {**MINILM_FILES, "2_Dense/config.json": 100, "2_Dense/pytorch_model.bin": 1_000},
        {"modules.json": [*MODULES, dense]},
    )
    kept = repo.kept()
    assert {"2_Dense/pytorch_model.bin", "model.safetensors"} <= kept
    assert "pytorch_model.bin" not in kept
    both = Repo(
        {"2_Dense/model.safetensors": 10, "2_Dense/pytorch_model.bin": 10, "config.json": 1},
        {"modules.json": [dense]},
    )
    assert both.skipped() == {"2_Dense/pytorch_model.bin"}  # each module gets the rule


def test_gguf_needs_one_quant() -> None:
    with pytest.raises(NoFit) as caught:
        GGUF.select()
    assert str(caught.value) == (
        'this GGUF repo has 10 quants and weights = "auto" takes one (quants: '
        "Q2_K, Q3_K_L, Q3_K_M, Q3_K_S, Q4_0, Q4_K_M, Q4_K_S, Q5_0, Q5_K_M, Q8_0)"
    )
    assert caught.value.hint == 'choose one, e.g. weights = "gguf:Q4_K_M"'
    with pytest.raises(NoFit, match=r"no GGUF file of quant Q9_K \(quants: Q2_K, "):
        GGUF.select("gguf:Q9_K")
    with pytest.raises(NoFit, match="has no GGUF file"):
        BERT.select("gguf:Q4_K_M")
    with pytest.raises(NoFit, match="this is a GGUF repo"):
        GGUF.select("safetensors")


def test_gguf_split_files_and_projectors() -> None:
    repo = Repo(
        {
            "Q8_0/Model-Q8_0-00001-of-00002.gguf": 5,
            "Q8_0/Model-Q8_0-00002-of-00002.gguf": 5,
            "Model-UD-Q4_K_XL.gguf": 3,
            "mmproj-F16.gguf": 1,
        }
    )
    assert repo.kept("gguf:Q8_0") == {
        "Q8_0/Model-Q8_0-00001-of-00002.gguf",
        "Q8_0/Model-Q8_0-00002-of-00002.gguf",
        "mmproj-F16.gguf",
    }
    assert repo.kept("gguf:UD-Q4_K_XL") == {"Model-UD-Q4_K_XL.gguf", "mmproj-F16.gguf"}
    one = Repo({"README.md": 1, "tiny.gguf": 9})
    assert one.kept() == {"README.md", "tiny.gguf"}


def test_the_only_copy_is_never_dropped() -> None:
    tf_only = Repo({"config.json": 1, "tf_model.h5": 10, "model.onnx": 10})
    selection = tf_only.select()
    assert set(selection.kept) == set(tf_only.files)
    assert selection.notes == ("the repo root has no PyTorch weights: kept its TensorFlow",)
    unknown = Repo({"config.yaml": 1, "weights/model.pt": 10, "model.ckpt": 10})
    selection = unknown.select()
    assert set(selection.kept) == set(unknown.files)
    assert "layout not recognised" in selection.notes[0]
    with pytest.raises(NoFit, match="does not recognise"):
        unknown.select("safetensors")
    plain = Repo({"tokenizer.json": 1, "README.md": 1})
    assert plain.select() == WeightsSelection(("README.md", "tokenizer.json"))


def test_the_guard_keeps_everything_rather_than_no_weights() -> None:
    paths = ["config.json", "model.safetensors", "pytorch_model.bin"]
    greedy = Decision(drop={"model.safetensors": "x", "pytorch_model.bin": "y"})
    selection = guarded(paths, greedy)
    assert selection.kept == tuple(paths)
    assert selection.notes == ("no weights would be left: kept every file",)
    fair = Decision(drop={"pytorch_model.bin": "y"})
    assert guarded(paths, fair).kept == ("config.json", "model.safetensors")


def test_shards_without_their_index_are_named_as_such_under_auto() -> None:
    orphans = Repo({"config.json": 1, SHARDS[0]: 10, SHARDS[1]: 10})
    with pytest.raises(NoFit, match=r"only as shards, with no index that names them") as caught:
        orphans.select()
    assert caught.value.hint is not None and 'weights = "all"' in caught.value.hint
    assert 'weights = "auto"' not in caught.value.hint  # what the table already says


def test_strict_choices_refuse_what_is_missing() -> None:
    with pytest.raises(
        NoFit, match=r"no safetensors weights in the repo root \(it has PyTorch .bin\)"
    ):
        LEGACY.select("safetensors")
    safetensors_only = Repo({"config.json": 1, "model.safetensors": 5})
    with pytest.raises(NoFit, match="no pytorch weights"):
        safetensors_only.select("pytorch")


def test_a_peft_adapter_is_chosen_like_a_model() -> None:
    repo = Repo({"adapter_config.json": 1, "adapter_model.safetensors": 5, "adapter_model.bin": 5})
    assert repo.kept() == {"adapter_config.json", "adapter_model.safetensors"}


@pytest.mark.parametrize("repo", [BERT, LLM, SD, MINILM, LEGACY], ids=lambda r: str(len(r.files)))
def test_the_selection_does_not_depend_on_listing_order(repo: Repo) -> None:
    listing = sorted(repo.files.items())
    shuffled = listing[:]
    random.Random(7).shuffle(shuffled)
    first = select_weights(listing, Weights.parse("auto"), None, repo.read)
    second = select_weights(shuffled, Weights.parse("auto"), None, repo.read)
    assert set(first.kept) == set(second.kept)
    assert set(first.skipped) == set(second.skipped)


@pytest.mark.parametrize(
    ("text", "error"),
    [("fp32", "is not one of"), ("gguf:", "names no quantisation"), ("gguf:Q4 K", "no quant")],
)
def test_bad_choices_are_named(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        Weights.parse(text)
    assert str(Weights.parse("gguf:q4_k_m")) == "gguf:Q4_K_M"
