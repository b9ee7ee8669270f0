"""Modelfile grammar, canonical dump, mappings and the shipped Modelfiles.

Quoting cases marked "ollama" are ported from Ollama's parser/parser_test.go, so a file
that ``ollama create`` accepts reads the same here.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.models.modelfile import (
    CHATML_STOP,
    CHATML_TEMPLATE,
    DOCUMENTED_PARAMETERS,
    PARAMETER_TYPES,
    Modelfile,
    dump_modelfile,
    load_modelfile,
    modelfile_for_adapter,
    parse_modelfile,
)

MODELFILES = Path(__file__).resolve().parents[2] / "configs" / "modelfiles"
SHIPPED = ["therapy-companion", "session-summarizer", "discharge-assistant"]


def roundtrip(mf: Modelfile) -> Modelfile:
    return parse_modelfile(dump_modelfile(mf))


def error_of(text: str, source: str = "test.Modelfile") -> str:
    with pytest.raises(ConfigError) as info:
        parse_modelfile(text, source=source)
    return str(info.value)


# --- shipped Modelfiles ---------------------------------------------------------------


@pytest.fixture(params=SHIPPED)
def shipped(request: pytest.FixtureRequest) -> tuple[str, Path, Modelfile]:
    path = MODELFILES / f"{request.param}.Modelfile"
    return request.param, path, load_modelfile(path)


def test_shipped_set_is_complete() -> None:
    assert sorted(p.stem for p in MODELFILES.glob("*.Modelfile")) == sorted(SHIPPED)


def test_shipped_round_trip(shipped: tuple[str, Path, Modelfile]) -> None:
    _, _, mf = shipped
    text = dump_modelfile(mf)
    assert parse_modelfile(text) == mf
    assert dump_modelfile(parse_modelfile(text)) == text  # canonical form is a fixed point


def test_shipped_common_shape(shipped: tuple[str, Path, Modelfile]) -> None:
    _, path, mf = shipped
    assert mf.from_ == "smollm2:135m"
    header = path.read_text(encoding="utf-8").split("\nFROM", 1)[0]
    assert "embedded" in header and "transformers" in header, "header must explain the FROM mapping"
    assert mf.system and "\n" in mf.system, "SYSTEM should be a multi-line block"
    assert len(mf.system.split()) <= 110, "system prompts must stay short for the 135M default model"
    assert mf.param("temperature") == 0.0
    assert isinstance(mf.param("num_predict"), int) and mf.param("num_predict") > 0
    assert sorted(mf.stop) == sorted(CHATML_STOP)
    roles = [role for role, _ in mf.messages]
    assert roles and roles[0] == "user" and roles[-1] == "assistant"
    assert all(a != b for a, b in itertools.pairwise(roles)), "few-shot turns must alternate"
    assert mf.source == str(path)


def test_session_summarizer_prompt() -> None:
    mf = load_modelfile(MODELFILES / "session-summarizer.Modelfile")
    system = mf.system or ""
    for tag in ("<b>Chief Complaint:</b>", "<b>Key Themes:</b>", "<b>Interventions:</b>", "<b>Risk:</b>"):
        assert tag in system
    assert "Low|Medium|High" in system and "50 words" in system and "never refuse" in system
    example = mf.messages[-1][1]
    assert re.fullmatch(
        r"<b>Chief Complaint:</b> .+ <b>Key Themes:</b> .+ <b>Interventions:</b> .+ <b>Risk:</b> (Low|Medium|High)\b.*",
        example,
    )
    assert len(re.sub(r"<[^>]+>", " ", example).split()) <= 50


def test_therapy_companion_prompt() -> None:
    system = load_modelfile(MODELFILES / "therapy-companion.Modelfile").system or ""
    for phrase in ("motivational interviewing", "open question", "permission", "988", "emergency", "safe"):
        assert phrase in system
    assert "Never diagnose" in system and "medication doses" in system and "150 words" in system


def test_discharge_assistant_prompt() -> None:
    mf = load_modelfile(MODELFILES / "discharge-assistant.Modelfile")
    system = mf.system or ""
    for phrase in ("only from the discharge summary", "plain", "Section:", "does not say", "care team", "120 words"):
        assert phrase in system
    assert "(Section: " in mf.messages[1][1]
    assert "does not say" in mf.messages[3][1]


# --- grammar -----------------------------------------------------------------------------


def test_minimal() -> None:
    assert parse_modelfile("FROM smollm2:135m") == Modelfile(from_="smollm2:135m")


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("temperature", "0", 0.0),
        ("temperature", "0.7", 0.7),
        ("top_p", ".9", 0.9),
        ("top_k", "40", 40),
        ("min_p", "0.05", 0.05),
        ("num_predict", "-1", -1),
        ("num_ctx", "4096", 4096),
        ("repeat_penalty", "1.1", 1.1),
        ("repeat_last_n", "64", 64),
        ("presence_penalty", "-0.5", -0.5),
        ("frequency_penalty", "1e-2", 0.01),
        ("seed", "42", 42),
        ("stop", "<|im_end|>", "<|im_end|>"),
        ("tfs_z", "1", 1.0),
        ("typical_p", "1.0", 1.0),
        ("mirostat", "2", 2),
        ("mirostat_eta", "0.1", 0.1),
        ("mirostat_tau", "5.0", 5.0),
        ("num_gpu", "50", 50),
        ("num_thread", "8", 8),
        ("num_batch", "512", 512),
        ("num_keep", "4", 4),
        ("penalize_newline", "true", True),
        ("use_mmap", "False", False),
        ("draft_num_predict", "4", 4),
    ],
)
def test_parameter_types(key: str, text: str, expected: object) -> None:
    mf = parse_modelfile(f"FROM m\nPARAMETER {key} {text}\n")
    value = mf.param(key) if key != "stop" else mf.stop[0]
    assert value == expected
    assert type(value) is PARAMETER_TYPES[key]
    assert roundtrip(mf) == mf


def test_every_known_parameter_round_trips() -> None:
    samples = {int: "3", float: "0.25", bool: "true", str: '"### User:"'}
    text = "FROM m\n" + "".join(f"PARAMETER {k} {samples[t]}\n" for k, t in PARAMETER_TYPES.items())
    mf = parse_modelfile(text)
    assert [k for k, _ in mf.parameters] == list(PARAMETER_TYPES)
    assert all(type(v) is PARAMETER_TYPES[k] for k, v in mf.parameters)
    assert roundtrip(mf) == mf
    assert set(mf.ollama_options()) == set(PARAMETER_TYPES)


def test_documented_parameters_are_known() -> None:
    documented = {"num_ctx", "repeat_last_n", "repeat_penalty", "temperature", "seed", "stop", "num_predict"}
    documented |= {"top_k", "top_p", "min_p"}
    assert documented <= set(DOCUMENTED_PARAMETERS)


@pytest.mark.parametrize(
    ("line", "expected"),
    [  # ollama: TestParseFileParameters stop cases
        ("stop ### User:", "### User:"),
        ("stop ### User: ", "### User:"),
        ('stop "### User:"', "### User:"),
        ('stop "### User: "', "### User: "),
        ('stop """### User:"""', "### User:"),
        ('stop """### User:\n"""', "### User:\n"),
        ("stop </s>", "</s>"),
    ],
)
def test_stop_quoting(line: str, expected: str) -> None:
    mf = parse_modelfile(f"FROM m\nPARAMETER {line}\n")
    assert mf.stop == [expected]
    assert roundtrip(mf) == mf


def test_repeated_stop_keeps_order() -> None:
    mf = parse_modelfile(
        'FROM m\nPARAMETER stop "<|im_start|>"\nPARAMETER temperature 0.2\nPARAMETER stop <|im_end|>\nPARAMETER stop "\\n\\n"\n'
    )
    assert mf.stop == ["<|im_start|>", "<|im_end|>", "\\n\\n"]  # no escape sequences in Modelfiles
    assert mf.ollama_options() == {"stop": ["<|im_start|>", "<|im_end|>", "\\n\\n"], "temperature": 0.2}
    assert mf.to_generation_params()["stop"] == ["<|im_start|>", "<|im_end|>", "\\n\\n"]
    assert roundtrip(mf) == mf


MULTILINE = '''FROM m
SYSTEM """You are careful.

# this line is part of the prompt, not a comment
She said "hello" and ""twice"".
   indented line with trailing spaces   

"""
TEMPLATE """{{ .Prompt }}"""
'''


def test_multiline_triple_quotes() -> None:
    mf = parse_modelfile(MULTILINE)
    assert mf.system == (
        "You are careful.\n\n# this line is part of the prompt, not a comment\n"
        'She said "hello" and ""twice"".\n   indented line with trailing spaces   \n\n'
    )
    assert mf.template == "{{ .Prompt }}"
    assert roundtrip(mf) == mf


@pytest.mark.parametrize(
    ("value_text", "expected"),
    [  # ollama: TestParseFileQuoted
        ('"""\nThis is a\nmultiline system.\n"""', "\nThis is a\nmultiline system.\n"),
        ('"""\nThis is a\nmultiline system."""', "\nThis is a\nmultiline system."),
        ('"""This is a\nmultiline system."""', "This is a\nmultiline system."),
        ('"""This is a multiline system."""', "This is a multiline system."),
        ('"""\nThis is a multiline system with "quotes".\n"""', '\nThis is a multiline system with "quotes".\n'),
        ('""""""', ""),
        ('""', ""),
        ("\"'\"", "'"),
        ('"""\'\'"\'""\'""\'"\'\'\'\'\'""\'""\'"""', '\'\'"\'""\'""\'"\'\'\'\'\'""\'""\''),
        ('"a quoted\nvalue may span lines"', "a quoted\nvalue may span lines"),
        ('"  padded  "', "  padded  "),
        ("plain words   ", "plain words"),
    ],
)
def test_quoted_values(value_text: str, expected: str) -> None:
    mf = parse_modelfile(f"FROM m\nSYSTEM {value_text}\nPARAMETER seed 1\n")
    assert mf.system == expected
    assert mf.parameters == [("seed", 1)]
    assert roundtrip(mf) == mf


def test_comments_blank_lines_and_indentation() -> None:
    text = "\n# top comment\n   # indented comment\n\n\tFROM   m  \n\n  # between\nPARAMETER   top_k   7\n"
    assert parse_modelfile(text) == Modelfile(from_="m", parameters=[("top_k", 7)])


def test_hash_after_a_value_is_not_a_comment() -> None:
    assert parse_modelfile("FROM m\nSYSTEM be kind # always\n").system == "be kind # always"


def test_instructions_are_case_insensitive() -> None:
    lower = parse_modelfile("from m\nsystem hi\nparameter temperature 0.5\nmessage user yo\nadapter ./a.gguf\n")
    mixed = parse_modelfile("From m\nSyStEm hi\nPARAMETER temperature 0.5\nMessage user yo\nADAPTER ./a.gguf\n")
    assert lower == mixed
    assert lower == Modelfile(
        from_="m", system="hi", parameters=[("temperature", 0.5)], messages=[("user", "yo")], adapters=["./a.gguf"]
    )


def test_messages_keep_file_order_and_chat_prefix() -> None:
    text = (
        "MESSAGE user Is Toronto in Canada?\nMESSAGE assistant yes\nSYSTEM Answer yes or no.\n"
        "MESSAGE user Is Sacramento in Canada?\nMESSAGE assistant no\nFROM m\n"
    )
    mf = parse_modelfile(text)
    assert mf.messages == [
        ("user", "Is Toronto in Canada?"),
        ("assistant", "yes"),
        ("user", "Is Sacramento in Canada?"),
        ("assistant", "no"),
    ]
    assert mf.chat_prefix() == [
        {"role": "system", "content": "Answer yes or no."},
        {"role": "user", "content": "Is Toronto in Canada?"},
        {"role": "assistant", "content": "yes"},
        {"role": "user", "content": "Is Sacramento in Canada?"},
        {"role": "assistant", "content": "no"},
    ]
    assert roundtrip(mf) == mf


def test_chat_prefix_without_system() -> None:
    mf = parse_modelfile('FROM m\nSYSTEM ""\nMESSAGE system """Be brief."""\n')
    assert mf.system == ""
    assert mf.chat_prefix() == [{"role": "system", "content": "Be brief."}]


def test_other_instructions() -> None:
    mf = parse_modelfile(
        'FROM ./base.gguf\nADAPTER ./one.gguf\nADAPTER ./two\nLICENSE MIT\nLICENSE """Apache\n2.0"""\n'
        "REQUIRES 0.14.0\nDRAFT ./draft\nRENDERER qwen3\nPARSER qwen3\n"
    )
    assert mf.adapters == ["./one.gguf", "./two"]
    assert mf.license == ["MIT", "Apache\n2.0"]
    assert (mf.requires, mf.draft, mf.renderer, mf.parser) == ("0.14.0", "./draft", "qwen3", "qwen3")
    assert roundtrip(mf) == mf


def test_from_values() -> None:  # ollama: TestParseFileFrom
    assert parse_modelfile('FROM "FOO  BAR  "').from_ == "FOO  BAR  "
    assert parse_modelfile("FROM     FOOO BAR    ").from_ == "FOOO BAR"
    assert parse_modelfile("FROM llama3:7b-instruct-q4_K_M").from_ == "llama3:7b-instruct-q4_K_M"
    assert roundtrip(parse_modelfile('FROM "FOO  BAR  "')).from_ == "FOO  BAR  "


def test_line_endings_and_bom(tmp_path: Path) -> None:
    expected = Modelfile(from_="m", system="a\n\nb", parameters=[("seed", 3)])
    assert parse_modelfile('\ufeffFROM m\r\nSYSTEM """a\r\n\r\nb"""\r\nPARAMETER seed 3\r\n') == expected
    path = tmp_path / "Modelfile"
    path.write_bytes('FROM m\nSYSTEM """a\n\nb"""\nPARAMETER seed 3\n'.encode("utf-16"))
    assert load_modelfile(path) == expected


# --- errors: each names source, line and what was expected -------------------------------


@pytest.mark.parametrize(
    ("text", "line", "fragments"),
    [
        ("FROM m\n\nFORM x\n", 3, ["unknown instruction 'FORM'", "FROM, PARAMETER"]),
        ("FROM m\nSYSTEM: hi\n", 2, ["unknown instruction 'SYSTEM:'", "expected one of"]),
        ('FROM m\n"""stray"""\n', 2, ["unknown instruction", "expected one of"]),
        ("FROM m\nPARAMETER temprature 0.1\n", 2, ["unknown parameter 'temprature'", "did you mean 'temperature'"]),
        ("FROM m\nPARAMETER Temperature 0.1\n", 2, ["unknown parameter 'Temperature'", "lowercase"]),
        ("FROM m\n# c\nPARAMETER top_k 0.5\n", 3, ["top_k expects an integer", "'0.5'"]),
        ("FROM m\nPARAMETER temperature warm\n", 2, ["temperature expects a number", "'warm'"]),
        ("FROM m\nPARAMETER temperature 0.7 # greedy-ish\n", 2, ["expects a number", "comments must be on their own"]),
        ("FROM m\nPARAMETER seed 1e3\n", 2, ["seed expects an integer"]),
        ("FROM m\nPARAMETER penalize_newline yes\n", 2, ["penalize_newline expects true or false"]),
        ('FROM m\nPARAMETER stop ""\n', 2, ["non-empty stop sequence"]),
        ("FROM m\nPARAMETER temperature\n", 2, ["temperature needs a value", "PARAMETER temperature <value>"]),
        ("FROM m\nPARAMETER temperature=0.1\n", 2, ["malformed PARAMETER", "PARAMETER <key> <value>"]),
        ("FROM m\nPARAMETER top_k 1\nPARAMETER top_k 2\n", 3, ["top_k set twice (first on line 2)", "only 'stop'"]),
        ("# only comments\nSYSTEM hi\nPARAMETER seed 1\n", 3, ["without a FROM instruction", "FROM smollm2:135m"]),
        ("", 1, ["without a FROM instruction"]),
        ('FROM m\nSYSTEM """one\ntwo\n\nthree""\n', 2, ['unterminated """ value', 'closing """']),
        ('FROM m\n\nTEMPLATE """\n', 3, ['unterminated """ value']),
        ('FROM m\nSYSTEM "open\n', 2, ['unterminated " value', 'closing "']),
        ("FROM m\nMESSAGE User hi\n", 2, ["bad MESSAGE role 'User'", "system, user, assistant"]),
        ("FROM m\nMESSAGE tool result\n", 2, ["bad MESSAGE role 'tool'", "system, user, assistant"]),
        ("FROM m\nMESSAGE user: hi\n", 2, ["bad MESSAGE role 'user:'", "MESSAGE <system|user|assistant> <text>"]),
        ("FROM m\nMESSAGE assistant\n", 2, ["MESSAGE assistant needs text"]),
        ('FROM m\nMESSAGE user ""\n', 2, ["MESSAGE user has empty text"]),
        ("FROM m\nSYSTEM\n", 2, ["SYSTEM needs a value", 'SYSTEM """<system prompt>"""']),
        ('FROM ""\n', 1, ["FROM is empty", "model name"]),
        ("FROM a\nFROM b\n", 2, ["FROM given twice (first on line 1)", "at most one FROM"]),
        ("FROM a\nSYSTEM x\nsystem y\n", 3, ["SYSTEM given twice (first on line 2)"]),
        ("FROM a\nREQUIRES latest\n", 2, ["REQUIRES 'latest' is not a version", "0.14.0"]),
    ],
)
def test_errors_name_source_line_and_expectation(text: str, line: int, fragments: list[str]) -> None:
    message = error_of(text)
    assert message.startswith(f"test.Modelfile:{line}: "), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_modelfile(tmp_path / "missing.Modelfile")
    bad = tmp_path / "bad.Modelfile"
    bad.write_text("FROM m\nPARAMETER top_k high\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(f"{bad}:2: parameter top_k expects an integer")):
        load_modelfile(bad)


# --- dump ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "",
        " leading space",
        "trailing space ",
        'has "quotes"',
        '"starts and ends with quotes"',
        '"',
        '""',
        "two\nlines",
        "\nsurrounded by newlines\n",
        "blank\n\n\nlines",
        'ends with a quote"',
        'line one "quoted"\nline two',
        "# looks like a comment\nFROM looks like an instruction",
        "\ttab\tseparated\t",
        "unicode: café, 日本語, emoji 🙂",
    ],
)
def test_dump_round_trips_awkward_values(value: str) -> None:
    mf = Modelfile(
        from_="m", system=value, template=value, messages=[("user", value or "x")], license=[value], requires=None
    )
    assert roundtrip(mf) == mf


def test_dump_uses_triple_quotes_for_newlines_and_quotes() -> None:
    text = dump_modelfile(Modelfile(from_="m", system='say "hi"', template="a\nb", license=["MIT"]))
    assert 'SYSTEM """say "hi""""' in text
    assert 'TEMPLATE """a\nb"""' in text
    assert "LICENSE MIT" in text
    assert text.startswith("FROM m\n")


def test_dump_is_canonical_and_header_is_a_comment() -> None:
    a = parse_modelfile("# note\nfrom m\nPARAMETER temperature 0\nsystem   hi  \n")
    b = parse_modelfile('FROM m\nSYSTEM """hi"""\nPARAMETER temperature 0.0')
    assert dump_modelfile(a) == dump_modelfile(b) == "FROM m\nSYSTEM hi\nPARAMETER temperature 0.0\n"
    with_header = dump_modelfile(a, header="Generated by the harness\n\nfrom a LoRA run")
    assert with_header.startswith("# Generated by the harness\n#\n# from a LoRA run\nFROM m\n")
    assert parse_modelfile(with_header) == a


def test_dump_rejects_what_cannot_round_trip() -> None:
    with pytest.raises(ValueError, match="cannot be written"):
        dump_modelfile(Modelfile(from_="m", system='closes early"""\nthen more'))
    with pytest.raises(ValueError, match="temperature"):
        dump_modelfile(Modelfile(from_="m", parameters=[("temperature", "hot")]))
    with pytest.raises(ValueError, match="unknown parameter"):
        dump_modelfile(Modelfile(from_="m", parameters=[("warmth", 1)]))
    with pytest.raises(ValueError, match="FROM"):
        dump_modelfile(Modelfile(from_=""))


def test_content_hash_ignores_layout_but_not_content() -> None:
    a = parse_modelfile("# comment\nfrom m\n\nPARAMETER stop <|im_end|>\nSYSTEM \"be kind\"\n")
    b = parse_modelfile('FROM m\nSYSTEM be kind\nPARAMETER stop "<|im_end|>"')
    c = parse_modelfile('FROM m\nSYSTEM be kinder\nPARAMETER stop "<|im_end|>"')
    assert a.content_hash() == b.content_hash() != c.content_hash()
    assert re.fullmatch(r"[0-9a-f]{64}", a.content_hash())
    # order of parameters is content: Ollama keeps the stop list in file order
    d = parse_modelfile("FROM m\nPARAMETER stop a\nPARAMETER stop b")
    e = parse_modelfile("FROM m\nPARAMETER stop b\nPARAMETER stop a")
    assert d.content_hash() != e.content_hash()


# --- mappings ------------------------------------------------------------------------------


def test_to_generation_params_maps_names() -> None:
    mf = parse_modelfile(
        "FROM m\nPARAMETER temperature 0.3\nPARAMETER top_p 0.9\nPARAMETER top_k 20\nPARAMETER min_p 0.05\n"
        "PARAMETER num_predict 64\nPARAMETER repeat_penalty 1.2\nPARAMETER seed 7\nPARAMETER stop END\n"
        "PARAMETER num_ctx 4096\nPARAMETER mirostat 0\n"
    )
    assert mf.to_generation_params() == {
        "temperature": 0.3,
        "top_p": 0.9,
        "top_k": 20,
        "min_p": 0.05,
        "max_new_tokens": 64,
        "repetition_penalty": 1.2,
        "seed": 7,
        "stop": ["END"],
    }
    assert mf.ollama_options() == {
        "temperature": 0.3,
        "top_p": 0.9,
        "top_k": 20,
        "min_p": 0.05,
        "num_predict": 64,
        "repeat_penalty": 1.2,
        "seed": 7,
        "stop": ["END"],
        "num_ctx": 4096,
        "mirostat": 0,
    }


def test_to_generation_params_only_sets_what_the_file_sets() -> None:
    assert parse_modelfile("FROM m").to_generation_params() == {}
    unlimited = parse_modelfile("FROM m\nPARAMETER num_predict -1\nPARAMETER temperature 0")
    assert unlimited.to_generation_params() == {"temperature": 0.0}


def test_generation_params_accept_the_mapping(shipped: tuple[str, Path, Modelfile]) -> None:
    from harness.models.base import GenerationParams

    _, _, mf = shipped
    params = GenerationParams().merged(mf.to_generation_params())
    assert params.greedy
    assert params.max_new_tokens == mf.param("num_predict")
    assert sorted(params.stop) == sorted(CHATML_STOP)


# --- LoRA export ---------------------------------------------------------------------------


def test_modelfile_for_adapter() -> None:
    mf = modelfile_for_adapter(
        "smollm2:135m",
        "./adapters/run-7",
        template=CHATML_TEMPLATE,
        stop=list(CHATML_STOP),
        system="You are a supportive companion.",
        params={"temperature": 0, "num_predict": "96", "stop": ["<|im_end|>", "</s>"]},
    )
    assert mf.from_ == "smollm2:135m" and mf.adapters == ["./adapters/run-7"]
    assert mf.template == CHATML_TEMPLATE and mf.system == "You are a supportive companion."
    assert mf.parameters == [
        ("temperature", 0.0),
        ("num_predict", 96),
        ("stop", "<|im_start|>"),
        ("stop", "<|im_end|>"),
        ("stop", "</s>"),
    ]
    text = dump_modelfile(mf)
    assert "ADAPTER ./adapters/run-7\n" in text and 'TEMPLATE """{{- range .Messages }}' in text
    assert parse_modelfile(text) == mf


def test_modelfile_for_adapter_defaults_and_errors() -> None:
    mf = modelfile_for_adapter("smollm2:135m", "/tmp/lora")
    assert mf.template == CHATML_TEMPLATE and mf.stop == list(CHATML_STOP) and mf.system is None
    with pytest.raises(ConfigError, match="unknown parameter 'max_new_tokens'"):
        modelfile_for_adapter("m", "a", params={"max_new_tokens": 10})
    with pytest.raises(ConfigError, match="top_k expects int"):
        modelfile_for_adapter("m", "a", params={"top_k": 0.5})
    with pytest.raises(ConfigError, match="adapter_path is empty"):
        modelfile_for_adapter("m", " ")


def _render_chatml(messages: list[dict[str, str]]) -> str:
    """Just enough Go-template evaluation for CHATML_TEMPLATE's single range loop."""
    match = re.fullmatch(r"\{\{- range \.Messages \}\}(.*)\{\{ end \}\}(.*)", CHATML_TEMPLATE, re.DOTALL)
    assert match, "CHATML_TEMPLATE should be one range over .Messages plus the generation prompt"
    body, tail = match.groups()
    rendered = "".join(body.replace("{{ .Role }}", m["role"]).replace("{{ .Content }}", m["content"]) for m in messages)
    return rendered + tail


def test_chatml_template_matches_smollm2_chat_format() -> None:
    messages = [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"}]
    assert _render_chatml(messages) == (
        "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )
    assert CHATML_STOP == ("<|im_start|>", "<|im_end|>")
