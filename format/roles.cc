#include "format/roles.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace sdc {
namespace {

bool Has(const std::string& s, std::initializer_list<const char*> needles) {
  for (const char* n : needles)
    if (s.find(n) != std::string::npos) return true;
  return false;
}

}  // namespace

// First matching rule wins, on the lower-cased name:
//  1. norm:      "norm", "ln_", ".ln", "layernorm", "rmsnorm", or a name of the control tensors
//                parameter-golf keeps in full precision ("attn_scale", "mlp_scale", "resid_mix", "q_gain",
//                "skip_weight", "log_alpha")
//  2. embedding: "embed", "wte", "wpe", "tok_emb"
//  3. head:      "lm_head", "classifier", "output.weight" as the whole name, "head." at the start
//  4. attention: "attn", "attention", "self_attn", ".wq", ".wk", ".wv", ".wo", "q_proj", "k_proj",
//                "v_proj", "o_proj", "query", "key", "value", "c_attn"
//  5. mlp:       "mlp", "ffn", "feed_forward", "intermediate", ".w1", ".w2", ".w3", "fc1", "fc2", "c_fc",
//                "gate_proj", "up_proj", "down_proj", or BERT's "output.dense" outside attention
//  6. norm:      any remaining tensor of rank 0 or 1 whose name ends in "weight" or "scale"
//  7. other
Role InferRole(std::string_view name_view, std::span<const uint64_t> shape) {
  std::string n(name_view);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (Has(n, {"norm", "ln_", ".ln", "layernorm", "rmsnorm", "attn_scale", "mlp_scale", "resid_mix", "q_gain",
              "skip_weight", "log_alpha"}))
    return Role::kNorm;
  if (Has(n, {"embed", "wte", "wpe", "tok_emb"})) return Role::kEmbedding;
  if (Has(n, {"lm_head", "classifier"}) || n == "output.weight" || n.rfind("head.", 0) == 0) return Role::kHead;
  if (Has(n, {"attn", "attention", ".wq", ".wk", ".wv", ".wo", "q_proj", "k_proj", "v_proj", "o_proj", "query", "key",
              "value", "c_attn"}))
    return Role::kAttention;
  if (Has(n, {"mlp", "ffn", "feed_forward", "intermediate", ".w1", ".w2", ".w3", "fc1", "fc2", "c_fc", "gate_proj",
              "up_proj", "down_proj", "output.dense"}))
    return Role::kMlp;
  const bool vec = shape.size() <= 1;
  const bool ends = n.size() >= 6 && (n.ends_with("weight") || n.ends_with("scale"));
  if (vec && ends) return Role::kNorm;
  return Role::kOther;
}

}  // namespace sdc
