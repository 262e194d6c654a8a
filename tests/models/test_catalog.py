"""The model catalog: counts derived from the shape match the published totals; config.json reading."""

from __future__ import annotations

import json

import pytest

from gpukit.errors import WorkloadError
from gpukit.models import architecture, catalog, from_hf_config
from gpukit.models.estimate import kv_bytes_per_sequence

NAMES = sorted(catalog())


@pytest.mark.parametrize("name", NAMES)
def test_parameter_count_matches_the_published_total(name):
    arch = catalog()[name]
    assert arch.source.startswith("hf:"), "every entry names its config.json"
    assert arch.params == pytest.approx(arch.published_params, rel=0.02)
    if arch.active_params:
        assert arch.params_per_token == pytest.approx(arch.active_params, rel=0.02)
    else:
        assert arch.params_per_token == arch.params


@pytest.mark.parametrize(
    ("name", "context", "per_sequence"),
    [
        # 2 x 32 layers x 8 KV heads x 128 x 2 B = 128 KiB per token
        pytest.param("Llama-3.1-8B", 8192, 8192 * 131072, id="llama-gqa"),
        # 2 x 80 x 8 x 128 x 2 B = 320 KiB per token
        pytest.param("Llama-3.1-70B", 1000, 1000 * 327680, id="llama-70b"),
        # MLA: (512 + 64) x 61 layers x 2 B
        pytest.param("DeepSeek-V3", 4096, 4096 * 576 * 61 * 2, id="deepseek-mla"),
        # Gemma 2: 21 global layers see all 8192 tokens, 21 sliding layers only 4096
        pytest.param(
            "Gemma-2-9B", 8192, (21 * 8192 + 21 * 4096) * 2 * 8 * 256 * 2, id="gemma2-sliding"
        ),
        # below the window every layer keeps every token
        pytest.param("Gemma-2-9B", 2048, 42 * 2048 * 2 * 8 * 256 * 2, id="gemma2-inside-window"),
        # Gemma 3: 10 global of 62 layers, 52 capped at 1024
        pytest.param(
            "Gemma-3-27B", 32768, (10 * 32768 + 52 * 1024) * 2 * 16 * 128 * 2, id="gemma3-5-to-1"
        ),
    ],
)
def test_kv_cache_per_sequence(name, context, per_sequence):
    assert kv_bytes_per_sequence(architecture(name), context, 2.0) == per_sequence


def test_unknown_name_says_did_you_mean():
    with pytest.raises(WorkloadError, match=r"did you mean 'Llama-3.1-8B'"):
        architecture("llama-3.1-8")


def test_names_are_case_insensitive():
    assert architecture("qwen3-30b-a3b").name == "Qwen3-30B-A3B"


def _write(tmp_path, data):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    return path


LLAMA_8B_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
    "tie_word_embeddings": False,
    "max_position_embeddings": 131072,
    "rope_theta": 500000.0,
}


def test_hf_config_gives_the_catalog_shape(tmp_path):
    arch = from_hf_config(_write(tmp_path, LLAMA_8B_CONFIG))
    known = architecture("Llama-3.1-8B")
    assert arch.params == known.params
    assert arch.head_dim == 128  # derived: hidden / heads
    assert arch.kv_values_per_token_layer() == known.kv_values_per_token_layer()


def test_hf_config_reads_multimodal_text_config_and_sliding_pattern(tmp_path):
    config = {
        "model_type": "gemma3",
        "text_config": {
            "model_type": "gemma3_text",
            "hidden_size": 5376,
            "intermediate_size": 21504,
            "num_attention_heads": 32,
            "num_hidden_layers": 62,
            "num_key_value_heads": 16,
            "head_dim": 128,
            "vocab_size": 262208,
            "sliding_window": 1024,
            "sliding_window_pattern": 6,
        },
    }
    arch = from_hf_config(_write(tmp_path, config))
    assert (arch.layers, arch.full_attention_layers, arch.norms_per_layer) == (62, 10, 4)


def test_hf_config_reads_mla_and_experts(tmp_path):
    config = {
        "model_type": "deepseek_v3",
        "hidden_size": 7168,
        "intermediate_size": 18432,
        "moe_intermediate_size": 2048,
        "num_attention_heads": 128,
        "num_hidden_layers": 61,
        "num_key_value_heads": 128,
        "vocab_size": 129280,
        "n_routed_experts": 256,
        "n_shared_experts": 1,
        "num_experts_per_tok": 8,
        "first_k_dense_replace": 3,
        "q_lora_rank": 1536,
        "kv_lora_rank": 512,
        "qk_rope_head_dim": 64,
        "qk_nope_head_dim": 128,
        "v_head_dim": 128,
    }
    arch = from_hf_config(_write(tmp_path, config))
    assert arch.params == pytest.approx(671e9, rel=0.01)
    assert arch.kv_values_per_token_layer() == 576


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "no such file", id="missing"),
        pytest.param("{not json", "not a readable JSON", id="not-json"),
        pytest.param("[1, 2]", "one JSON object", id="not-object"),
        pytest.param('{"hidden_size": 4096}', "lacks num_hidden_layers", id="not-an-llm"),
    ],
)
def test_bad_config_json_is_one_clear_line(tmp_path, content, message):
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(WorkloadError, match=message) as err:
        from_hf_config(path)
    assert "\n" not in str(err.value)
