"""Tiny random-weight seq2seq models of the real architectures (T5, MBart, Marian), built in seconds.

Their sentencepiece vocabularies are trained on a few Russian lines, so tokenization is real; their
output is gibberish, so tests check plumbing, structure and limits, never wording.
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
HUB_IDS = {
    "t5": "IlyaGusev/rut5_base_sum_gazeta",
    "mbart": "IlyaGusev/mbart_ru_sum_gazeta",
    "marian": "Helsinki-NLP/opus-mt-ru-en",
}
FAKE_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _train_spm(vocab_size: int = 160, **options) -> bytes:
    import sentencepiece as spm

    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(RUSSIAN_LINES * 4),
        model_writer=buffer,
        vocab_size=vocab_size,
        character_coverage=1.0,
        hard_vocab_limit=False,
        minloglevel=2,
        **options,
    )
    return buffer.getvalue()


def build_t5(path: Path) -> Path:
    from transformers import T5Config, T5ForConditionalGeneration, T5Tokenizer

    path.mkdir(parents=True, exist_ok=True)
    (path / "spiece.model").write_bytes(_train_spm(pad_id=0, eos_id=1, unk_id=2, bos_id=-1))
    tokenizer = T5Tokenizer.from_pretrained(path, extra_ids=0)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=16,
        d_kv=8,
        d_ff=32,
        num_layers=1,
        num_decoder_layers=1,
        num_heads=2,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    _save(T5ForConditionalGeneration(config), tokenizer, path)
    return path


def build_mbart(path: Path) -> Path:
    from transformers import MBartConfig, MBartForConditionalGeneration, MBartTokenizer

    path.mkdir(parents=True, exist_ok=True)
    (path / "sentencepiece.bpe.model").write_bytes(_train_spm(model_type="bpe"))
    tokenizer = MBartTokenizer.from_pretrained(path, src_lang="ru_RU", tgt_lang="ru_RU")
    config = MBartConfig(
        vocab_size=len(tokenizer),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=1024,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
    )
    _save(MBartForConditionalGeneration(config), tokenizer, path)
    return path


def build_marian(path: Path) -> Path:
    import sentencepiece as spm
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    path.mkdir(parents=True, exist_ok=True)
    model = _train_spm()
    (path / "source.spm").write_bytes(model)
    (path / "target.spm").write_bytes(model)
    pieces = spm.SentencePieceProcessor(model_proto=model)
    vocab = {"</s>": 0, "<unk>": 1}
    for i in range(pieces.get_piece_size()):
        vocab.setdefault(pieces.id_to_piece(i), len(vocab))
    vocab.setdefault("<pad>", len(vocab))
    (path / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tokenizer = MarianTokenizer.from_pretrained(path)
    config = MarianConfig(
        vocab_size=len(vocab),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=512,
        pad_token_id=vocab["<pad>"],
        eos_token_id=0,
        decoder_start_token_id=vocab["<pad>"],
    )
    _save(MarianMTModel(config), tokenizer, path)
    return path


def _save(model, tokenizer, path: Path) -> None:
    import torch

    torch.manual_seed(0)
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.5)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)


BUILDERS = {"t5": build_t5, "mbart": build_mbart, "marian": build_marian}


def build_all(root: Path) -> dict[str, Path]:
    return {name: build(root / name) for name, build in BUILDERS.items()}


def lay_out_hub_cache(models: dict[str, Path], hub_cache: Path) -> None:
    """Copy the models where huggingface_hub looks for cached repos: models--org--name/snapshots/<commit>."""
    for name, repo_id in HUB_IDS.items():
        repo = hub_cache / ("models--" + repo_id.replace("/", "--"))
        shutil.copytree(models[name], repo / "snapshots" / FAKE_COMMIT, dirs_exist_ok=True)
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / "main").write_text(FAKE_COMMIT)
