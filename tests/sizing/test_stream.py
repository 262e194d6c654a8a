"""Streamed reading: many documents per file, each within the limits; JSON Lines; big API lists."""

from __future__ import annotations

import io
import json

import pytest

from gpukit import _yaml
from gpukit._yaml import (
    MAX_DOCUMENT_BYTES,
    stream_documents,
    stream_json_items,
    stream_json_lines,
    stream_source,
)
from gpukit.errors import ManifestError
from gpukit.sizing import stream_workloads


def _values(docs):
    return [d.value for d in docs]


def test_yaml_stream_has_no_document_cap():
    text = "".join(f"---\nn: {i}\n" for i in range(_yaml.MAX_DOCUMENTS + 500))
    docs = list(stream_documents("t", io.StringIO(text)))
    assert len(docs) == _yaml.MAX_DOCUMENTS + 500 and docs[-1].value == {"n": 2499}
    with pytest.raises(ManifestError, match="more than 2000 documents"):
        _yaml.load_text("t", text)  # the whole-file reader keeps its cap


def test_yaml_stream_keeps_line_numbers():
    docs = list(stream_documents("t", io.StringIO("a: 1\n---\nb:\n  c: 2\n")))
    assert docs[1].line_of(("b", "c")) == (4, 6)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ok: 1\n---\n" + "a: " + "[" * 120 + "]" * 120 + "\n", "nested deeper than 100 levels"),
        (
            "ok: 1\n---\na: &x [1]\n" + "".join(f"b{i}: *x\n" for i in range(1001)),
            "more than 1000 YAML aliases",
        ),
        (
            "a: &a [1,1,1,1,1,1,1,1,1,1]\n"
            + "".join(
                f"{b}: &{b} [{', '.join(['*' + a] * 10)}]\n" for a, b in zip("abcde", "bcdef")
            ),
            "alias bomb",
        ),
        ("a: 1\n---\nb: 2\nb: 3\n", "key 'b' appears twice"),
        ("a: 1\n\x00", "binary data"),
    ],
    ids=["depth", "aliases", "alias-bomb", "duplicate-key", "nul"],
)
def test_yaml_stream_limits_hold_per_document(text, message):
    with pytest.raises(ManifestError, match=message) as info:
        list(stream_documents("f.yaml", io.StringIO(text), duplicate_keys=False))
    assert str(info.value).startswith("f.yaml: ") and "\n" not in str(info.value)


def test_one_huge_document_is_refused_before_it_is_all_read():
    class Endless(io.TextIOBase):
        """A document that never ends: reading must stop, not fill memory."""

        served = 0

        def read(self, size: int = -1) -> str:
            self.served += 65536
            return "k: " + "x" * 65530 + "\n" if self.served == 65536 else " " + "y" * 65535

    stream = Endless()
    with pytest.raises(ManifestError, match="larger than 2 MiB"):
        list(stream_documents("big.yaml", stream))
    assert stream.served <= MAX_DOCUMENT_BYTES + 4 * 65536


def test_many_documents_each_small_may_exceed_the_file_limit(tmp_path):
    doc = "---\nname: n{i}\nkind: ci\nimage: repo/" + "a" * 900 + ":1\n"
    path = tmp_path / "big.yaml"
    path.write_text("".join(doc.format(i=i) for i in range(2600)))
    assert path.stat().st_size > _yaml.MAX_FILE_BYTES
    assert sum(1 for _ in stream_workloads(path)) == 2600


def test_json_lines():
    text = '{"a": 1}\n\n{"b": [1, {"c": 2}]}\n'
    docs = list(stream_json_lines("t", io.StringIO(text)))
    assert _values(docs) == [{"a": 1}, {"b": [1, {"c": 2}]}] and [d.index for d in docs] == [0, 2]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1}\n{"a": ' + "[" * 150 + "]" * 150 + "}\n", "line 2 is nested deeper than 100"),
        ('{"a": 1}\n{"a" 1}\n', "line 2: not valid JSON at column 6"),
        ('{"a": 1, "a": 2}\n', "key 'a' appears twice"),
        ('{"a": "' + "x" * (MAX_DOCUMENT_BYTES + 10) + '"}\n', "line 1 is longer than 2 MiB"),
    ],
    ids=["depth", "syntax", "duplicate-key", "too-long"],
)
def test_json_lines_limits(text, message):
    with pytest.raises(ManifestError, match=message):
        list(stream_json_lines("t.jsonl", io.StringIO(text), duplicate_keys=False))


def test_source_sniffs_json_lines_and_reads_yaml(tmp_path):
    lines = tmp_path / "mix.txt"
    lines.write_text('{"a": 1}\n{"a": 2}\n')
    assert [d.value for _, d in stream_source(lines)] == [{"a": 1}, {"a": 2}]
    one = tmp_path / "one.json"
    one.write_text('{"a": 1,\n "b": 2}\n')
    assert [d.value for _, d in stream_source(one)] == [{"a": 1, "b": 2}]
    with pytest.raises(ManifestError, match="no such file"):
        list(stream_source(tmp_path / "missing.yaml"))


@pytest.mark.parametrize("indent", [None, 2])
def test_json_items_of_a_big_list(indent):
    items = [{"metadata": {"name": f"p{i}"}, "pad": "z" * 500, "n": i * 1.5} for i in range(8000)]
    text = json.dumps(
        {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"x": 1}}, indent=indent
    )
    assert len(text) > MAX_DOCUMENT_BYTES
    assert list(stream_json_items("pods.json", io.StringIO(text))) == items


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"items": [{"a": 1}, ', "the file ends where a value should be"),
        ('{"items": [{"a": 1}', "expected , or \\], found the end of the file"),
        ('{"items": [{"a": tru}]}', "not valid JSON: Expecting value"),
        ('{"items": [{"a": 1} {"b": 2}]}', "expected , or \\], found '{'"),
        ('{"items": [' + "[" * 150 + "]" * 150 + "]}", "nested deeper than 100"),
        ('{"items": ["' + "x" * (MAX_DOCUMENT_BYTES + 70000) + '"]}', "larger than 2 MiB"),
    ],
    ids=[
        "truncated",
        "truncated-after-item",
        "bad-literal",
        "missing-comma",
        "depth",
        "item-too-big",
    ],
)
def test_json_items_errors(text, message):
    with pytest.raises(ManifestError, match=message):
        list(stream_json_items("pods.json", io.StringIO(text)))
