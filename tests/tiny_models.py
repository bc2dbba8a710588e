"""Random-weight seq2seq models of the real architectures (T5, MBart, Marian): the one builder.

The tests build tiny ones in seconds (build_all); bench/models.py builds bench-size ones from the
real configs with the same functions (tokenizer writers, random_model, save). Sentencepiece
vocabularies are trained on Russian lines, so tokenization is real; the output is gibberish, so
tests check plumbing, structure and limits, never wording.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

RUSSIAN_LINES = [
    "Москва, 3 марта. Правительство утвердило программу ремонта дорог в двенадцати регионах.",
    "Министр транспорта сообщил, что работы начнутся весной и завершатся к концу года.",
    "На торгах Московской биржи курс рубля к доллару снизился на полпроцента.",
    "Учёные Новосибирского университета создали новый материал для солнечных батарей.",
    "В Санкт-Петербурге открылась выставка современного искусства из частных собраний.",
    "Синоптики обещают в выходные снег, гололёд и похолодание до минус пятнадцати градусов.",
    "Сборная России по хоккею выиграла товарищеский матч со счётом три — один.",
    "Жители Казани выбрали проект нового парка на берегу реки Казанки.",
    "По данным Росстата, инфляция в январе составила ноль целых восемь десятых процента.",
    "Пресс-служба мэрии заявила, что метро будет работать в праздники круглосуточно.",
    "Компания объявила о выпуске облигаций на десять миллиардов рублей.",
    "English words: the quick brown fox jumps over the lazy dog, 2024 & 100%.",
    "Цифры и знаки: 1 2 3 4 5 6 7 8 9 0 , . ! ? ; : « » — ( ) № % + = / \" '",
]
HUB_IDS = {  # each tiny model under the real ids of its architecture
    "t5": ("IlyaGusev/rut5_base_sum_gazeta",),
    "mbart": ("IlyaGusev/mbart_ru_sum_gazeta",),
    "marian": ("Helsinki-NLP/opus-mt-ru-en",),
    # Marian big with a >>xxx<< target-token vocabulary (one model stands for every tc-big repository)
    "marian-multi": tuple(f"Helsinki-NLP/opus-mt-tc-big-zle-{group}" for group in ("en", "de", "gmq", "zle")) + ("Helsinki-NLP/opus-mt-en-ru",),
    "m2m100": ("facebook/m2m100_418M",),
    "nllb": ("facebook/nllb-200-distilled-600M",),
}
MARIAN_CODES = [">>rus<<", ">>ukr<<", ">>bel<<", ">>dan<<", ">>nob<<", ">>swe<<"]  # the routes' tokens for the tiny tc-big models
FAKE_COMMIT = "0123456789abcdef0123456789abcdef01234567"


LINES = RUSSIAN_LINES * 4
PIECES = 160  # the tests' vocabularies: small, so building takes seconds
ARCHITECTURES = {  # kind: (config class, model class) in transformers
    "t5": ("T5Config", "T5ForConditionalGeneration"),
    "mbart": ("MBartConfig", "MBartForConditionalGeneration"),
    "marian": ("MarianConfig", "MarianMTModel"),
    "m2m100": ("M2M100Config", "M2M100ForConditionalGeneration"),  # NLLB-200 is this architecture too
}
TINY_LAYERS = {"d_model": 16, "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": 2, "decoder_attention_heads": 2}
TINY = {
    "t5": {"d_model": 16, "d_kv": 8, "d_ff": 32, "num_layers": 1, "num_decoder_layers": 1, "num_heads": 2},
    "mbart": {**TINY_LAYERS, "encoder_ffn_dim": 32, "decoder_ffn_dim": 32, "max_position_embeddings": 1024},
    "marian": {**TINY_LAYERS, "encoder_ffn_dim": 32, "decoder_ffn_dim": 32, "max_position_embeddings": 512},
    "m2m100": {**TINY_LAYERS, "encoder_ffn_dim": 32, "decoder_ffn_dim": 32, "max_position_embeddings": 1024},
}


def train_spm(lines: list[str], pieces: int, **options) -> bytes:
    """A unigram model (unless options say otherwise) with up to `pieces` pieces, fewer when the
    text has no more to give (hard_vocab_limit=False), so that any text and size train."""
    import sentencepiece as spm

    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=buffer,
        vocab_size=pieces,
        character_coverage=1.0,
        hard_vocab_limit=False,
        minloglevel=2,
        **options,
    )
    return buffer.getvalue()


def piece_count(model: bytes) -> int:
    import sentencepiece as spm

    return spm.SentencePieceProcessor(model_proto=model).get_piece_size()


def t5_tokenizer(path: Path, lines: list[str], pieces: int = PIECES):
    """rut5's layout: pad 0, </s> 1, <unk> 2, no extra ids. Returns the tokenizer and the pieces trained."""
    from transformers import T5Tokenizer

    path.mkdir(parents=True, exist_ok=True)
    model = train_spm(lines, pieces, pad_id=0, eos_id=1, unk_id=2, bos_id=-1)
    (path / "spiece.model").write_bytes(model)
    return T5Tokenizer.from_pretrained(path, extra_ids=0), piece_count(model)


def mbart_tokenizer(path: Path, lines: list[str], pieces: int = PIECES, **options):
    from transformers import MBartTokenizer

    path.mkdir(parents=True, exist_ok=True)
    model = train_spm(lines, pieces, **options)
    (path / "sentencepiece.bpe.model").write_bytes(model)
    return MBartTokenizer.from_pretrained(path, src_lang="ru_RU", tgt_lang="ru_RU"), piece_count(model)


def marian_tokenizer(path: Path, lines: list[str], pieces: int = PIECES, fill_to: int | None = None, pad_id: int | None = None, codes: tuple[str, ...] = ()):
    """opus-mt's layout: </s> 0, <unk> 1, the pieces, <pad> (last unless pad_id says where). With
    fill_to, vocab.json gets unused names up to that size, as the real one has an entry for every
    id (Marian's tokenizer raises on an id that is in neither vocab.json nor the sentencepiece model)."""
    import sentencepiece as spm
    from transformers import MarianTokenizer

    path.mkdir(parents=True, exist_ok=True)
    model = train_spm(lines, pieces)
    (path / "source.spm").write_bytes(model)
    (path / "target.spm").write_bytes(model)  # only Russian text is available: both sides use it
    processor = spm.SentencePieceProcessor(model_proto=model)
    vocab = {"</s>": 0, "<unk>": 1}
    for i in range(processor.get_piece_size()):
        vocab.setdefault(processor.id_to_piece(i), len(vocab))
    for code in codes:  # a multi-target model's >>xxx<< tokens, whole entries of its vocabulary
        vocab.setdefault(code, len(vocab))
    pad = len(vocab) if pad_id is None else pad_id
    vocab.update({f"<bench-unused-{i}>": i for i in range(len(vocab), fill_to or 0) if i != pad})
    vocab["<pad>"] = pad
    (path / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    return MarianTokenizer.from_pretrained(path), processor.get_piece_size()


def random_model(kind: str, config: dict, std: float | None = None, seed: int = 0):
    """A model of the architecture with seeded random weights: transformers' own initialisation,
    or every parameter drawn from N(0, std) (tiny models need large weights to vary their output)."""
    import torch
    import transformers

    config_class, model_class = (getattr(transformers, name) for name in ARCHITECTURES[kind])
    torch.manual_seed(seed)
    model = model_class(config_class(**config))
    if std is not None:
        torch.manual_seed(seed)
        for p in model.parameters():
            torch.nn.init.normal_(p, std=std)
    return model


def save(model, tokenizer, path: Path) -> None:
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)


def build_t5(path: Path) -> Path:
    tokenizer, _ = t5_tokenizer(path, LINES)
    config = {**TINY["t5"], "vocab_size": len(tokenizer), "pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0}
    save(random_model("t5", config, std=0.5), tokenizer, path)
    return path


def build_mbart(path: Path) -> Path:
    tokenizer, _ = mbart_tokenizer(path, LINES, model_type="bpe")
    config = {**TINY["mbart"], "vocab_size": len(tokenizer), "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2, "decoder_start_token_id": 2}
    save(random_model("mbart", config, std=0.5), tokenizer, path)
    return path


def build_marian(path: Path) -> Path:
    tokenizer, _ = marian_tokenizer(path, LINES)
    pad = tokenizer.pad_token_id
    config = {**TINY["marian"], "vocab_size": pad + 1, "pad_token_id": pad, "eos_token_id": 0, "decoder_start_token_id": pad}
    save(random_model("marian", config, std=0.5), tokenizer, path)
    return path


def build_marian_multi(path: Path) -> Path:
    """Marian with >>xxx<< target tokens in its vocabulary, as opus-mt-tc-big-zle-gmq has."""
    tokenizer, _ = marian_tokenizer(path, LINES, codes=tuple(MARIAN_CODES))
    pad = tokenizer.pad_token_id
    config = {**TINY["marian"], "vocab_size": pad + 1, "pad_token_id": pad, "eos_token_id": 0, "decoder_start_token_id": pad}
    save(random_model("marian", config, std=0.5), tokenizer, path)
    return path


def build_m2m100(path: Path) -> Path:
    """M2M100: a sentencepiece model with fairseq's vocab.json, the language tokens __xx__ after it."""
    import sentencepiece as spm
    from transformers import M2M100Tokenizer

    path.mkdir(parents=True, exist_ok=True)
    model = train_spm(LINES, PIECES)
    (path / "sentencepiece.bpe.model").write_bytes(model)
    processor = spm.SentencePieceProcessor(model_proto=model)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for i in range(processor.get_piece_size()):
        vocab.setdefault(processor.id_to_piece(i), len(vocab))
    (path / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tokenizer = M2M100Tokenizer(vocab_file=str(path / "vocab.json"), spm_file=str(path / "sentencepiece.bpe.model"), src_lang="ru", tgt_lang="en")
    return _save_m2m100(tokenizer, path)


def build_nllb(path: Path) -> Path:
    """NLLB-200: M2M100's architecture, a BPE sentencepiece model and FLORES tokens (rus_Cyrl, kaz_Cyrl…)."""
    from transformers import NllbTokenizer

    path.mkdir(parents=True, exist_ok=True)
    (path / "sentencepiece.bpe.model").write_bytes(train_spm(LINES, PIECES, model_type="bpe"))
    tokenizer = NllbTokenizer(vocab_file=str(path / "sentencepiece.bpe.model"), src_lang="rus_Cyrl", tgt_lang="eng_Latn")
    return _save_m2m100(tokenizer, path)


def _save_m2m100(tokenizer, path: Path) -> Path:
    languages = getattr(tokenizer, "lang_token_to_id", {})  # M2M100's __xx__ ids lie past its vocab.json
    size = max([*tokenizer.get_vocab().values(), *languages.values()]) + 1
    config = {**TINY["m2m100"], "vocab_size": size, "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2, "decoder_start_token_id": 2}
    save(random_model("m2m100", config, std=0.5), tokenizer, path)
    return path


BUILDERS = {"t5": build_t5, "mbart": build_mbart, "marian": build_marian, "marian-multi": build_marian_multi, "m2m100": build_m2m100, "nllb": build_nllb}


def build_all(root: Path) -> dict[str, Path]:
    return {name: build(root / name) for name, build in BUILDERS.items()}


def lay_out_hub_cache(models: dict[str, Path], hub_cache: Path) -> None:
    """Copy the models where huggingface_hub looks for cached repos: models--org--name/snapshots/<commit>."""
    for name, repo_ids in HUB_IDS.items():
        for repo_id in repo_ids:
            repo = hub_cache / ("models--" + repo_id.replace("/", "--"))
            shutil.copytree(models[name], repo / "snapshots" / FAKE_COMMIT, dirs_exist_ok=True)
            (repo / "refs").mkdir(parents=True, exist_ok=True)
            (repo / "refs" / "main").write_text(FAKE_COMMIT)
