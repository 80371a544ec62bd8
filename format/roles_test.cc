// format/roles.h: the name -> role rule of spec §11 on the tensor names of the model families we meet.
#include "format/roles.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sdc {
namespace {

struct Case {
  const char* name;
  std::vector<uint64_t> shape;
  Role role;
};

void ExpectRoles(const std::vector<Case>& cases) {
  for (const Case& c : cases) EXPECT_EQ(RoleName(InferRole(c.name, c.shape)), std::string(RoleName(c.role))) << c.name;
}

// llama (Meta / llama2.c names, as tools/llama2c_to_safetensors.py writes them).
TEST(Roles, Llama) {
  ExpectRoles({
      {"tok_embeddings.weight", {512, 64}, Role::kEmbedding},
      {"layers.0.attention.wq.weight", {64, 64}, Role::kAttention},
      {"layers.0.attention.wk.weight", {32, 64}, Role::kAttention},
      {"layers.0.attention.wv.weight", {32, 64}, Role::kAttention},
      {"layers.0.attention.wo.weight", {64, 64}, Role::kAttention},
      {"layers.0.attention_norm.weight", {64}, Role::kNorm},
      {"layers.0.ffn_norm.weight", {64}, Role::kNorm},
      {"layers.0.feed_forward.w1.weight", {172, 64}, Role::kMlp},
      {"layers.0.feed_forward.w2.weight", {64, 172}, Role::kMlp},
      {"layers.0.feed_forward.w3.weight", {172, 64}, Role::kMlp},
      {"norm.weight", {64}, Role::kNorm},
      {"output.weight", {512, 64}, Role::kHead},
      // HF llama spellings
      {"model.layers.3.self_attn.q_proj.weight", {64, 64}, Role::kAttention},
      {"model.layers.3.mlp.gate_proj.weight", {172, 64}, Role::kMlp},
      {"model.layers.3.post_attention_layernorm.weight", {64}, Role::kNorm},
      {"model.embed_tokens.weight", {512, 64}, Role::kEmbedding},
  });
}

// BERT / MiniLM: attention.output.dense is attention (rule 4 precedes rule 5's output.dense), the block
// output.dense is mlp, every LayerNorm is norm, the pooler is other.
TEST(Roles, BertMiniLm) {
  ExpectRoles({
      {"embeddings.word_embeddings.weight", {30522, 384}, Role::kEmbedding},
      {"embeddings.position_embeddings.weight", {512, 384}, Role::kEmbedding},
      {"embeddings.LayerNorm.weight", {384}, Role::kNorm},
      {"embeddings.LayerNorm.bias", {384}, Role::kNorm},
      {"encoder.layer.0.attention.self.query.weight", {384, 384}, Role::kAttention},
      {"encoder.layer.0.attention.self.key.bias", {384}, Role::kAttention},
      {"encoder.layer.0.attention.self.value.weight", {384, 384}, Role::kAttention},
      {"encoder.layer.0.attention.output.dense.weight", {384, 384}, Role::kAttention},
      {"encoder.layer.0.attention.output.LayerNorm.weight", {384}, Role::kNorm},
      {"encoder.layer.0.intermediate.dense.weight", {1536, 384}, Role::kMlp},
      {"encoder.layer.0.output.dense.weight", {384, 1536}, Role::kMlp},
      {"encoder.layer.0.output.dense.bias", {384}, Role::kMlp},
      {"encoder.layer.0.output.LayerNorm.weight", {384}, Role::kNorm},
      {"pooler.dense.weight", {384, 384}, Role::kOther},
      {"pooler.dense.bias", {384}, Role::kOther},
  });
}

// GPT-2.
TEST(Roles, Gpt2) {
  ExpectRoles({
      {"wte.weight", {50257, 768}, Role::kEmbedding},
      {"wpe.weight", {1024, 768}, Role::kEmbedding},
      {"h.0.ln_1.weight", {768}, Role::kNorm},
      {"h.0.attn.c_attn.weight", {768, 2304}, Role::kAttention},
      {"h.0.attn.c_proj.weight", {768, 768}, Role::kAttention},
      {"h.0.mlp.c_fc.weight", {768, 3072}, Role::kMlp},
      {"h.0.mlp.c_proj.weight", {3072, 768}, Role::kMlp},
      {"ln_f.weight", {768}, Role::kNorm},
      {"lm_head.weight", {50257, 768}, Role::kHead},
  });
}

// The order of the rules and their edges: first match wins, matching is case-insensitive, "output.weight"
// is head only as the whole name, "head." only at the start, and rule 6 needs rank <= 1 and a name of at
// least 6 bytes ending in weight/scale.
TEST(Roles, RuleOrderAndEdges) {
  ExpectRoles({
      {"Encoder.Layer.0.Attention.Self.Query.Weight", {4, 4}, Role::kAttention},
      {"LM_HEAD.weight", {4, 4}, Role::kHead},
      {"blocks.0.attn_scale", {4}, Role::kNorm},               // rule 1 beats rule 4
      {"embed.norm.weight", {4}, Role::kNorm},                 // rule 1 beats rule 2
      {"tok_embeddings.attention", {4, 4}, Role::kEmbedding},  // rule 2 beats rule 4
      {"classifier.weight", {2, 384}, Role::kHead},
      {"head.weight", {2, 384}, Role::kHead},
      {"model.head.weight", {2, 384}, Role::kOther},    // "head." only at the start
      {"model.output.weight", {2, 384}, Role::kOther},  // "output.weight" only as the whole name
      {"foo.weight", {16}, Role::kNorm},                // rule 6
      {"foo.weight", {}, Role::kNorm},                  // rule 6, 0-d
      {"foo.weight", {4, 4}, Role::kOther},             // rank 2
      {"foo.scale", {4}, Role::kNorm},
      {"weight", {4}, Role::kNorm},  // exactly 6 bytes
      {"foo.bias", {4}, Role::kOther},
      {"", {}, Role::kOther},
  });
}

}  // namespace
}  // namespace sdc
