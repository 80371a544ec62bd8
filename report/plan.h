// `sdcodec plan`: predicts an artifact's bytes by role for a transformer shape that has not been trained
// yet, from bits/weight measured on a real encoding (an inspect report) at the codec setting the user will
// use. A researcher sees what a smaller vocabulary, tied or factorised embeddings, or shared (looped)
// blocks free for the trunk before training anything. The shape is Llama-style: token embedding (V x D,
// or V x r and r x D factorised), optional untied head (V x D), per unique block the attention projections
// q and o (D x D) and k and v (D x D*kv/heads), a gated MLP (three D x H matrices, two when not gated),
// two norms (D), and a final norm.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "format/status.h"

namespace sdc {

struct ModelShape {
  uint64_t vocab = 0, dim = 0, layers = 0;
  uint64_t unique_layers = 0;        // blocks with their own weights (0: all layers); the rest reuse them
  uint64_t hidden = 0;               // MLP width
  uint64_t heads = 1, kv_heads = 0;  // kv_heads 0: same as heads
  bool tied = true;                  // head shares the embedding
  uint64_t factor_rank = 0;          // 0: full V x D embedding
  bool gated_mlp = true;
};

// Rates measured on one encoded file: bits per weight by tensor role and the overheads that do not scale
// with parameters.
struct MeasuredRates {
  std::string source;
  std::string encoder;  // the measured file's encoder string: the setting its rates hold for
  uint64_t budget = 0;  // its budget when it was fitted to one (0: a fixed setting)
  // By Role (embedding, head, attention, mlp, norm, other): stored bits per weight, scales left out; < 0: none.
  std::array<double, 6> bits_per_weight{};
  // Scales go by row (or by group of a row), not by weight, so wider rows spread them thinner: stored bytes
  // per scale of each role, and the group size its tensors use (0: one scale per row).
  std::array<double, 6> bytes_per_scale{};
  std::array<uint64_t, 6> group_size{};
  std::array<bool, 6> measured{};  // true where the file held tensors of that role
  // The manifest compresses all but its hashes (8 random bytes per tensor and per section): a planned file's
  // manifest is the measured one plus 8 bytes per hash more (less) than the measured tensors had.
  double manifest_bytes = 0;
  double tensor_hashes = 0;                     // the measured tensors' hashes: theirs and their sections'
  std::array<double, 6> sections_per_tensor{};  // by role, own sections (and per-tensor banks) per tensor
  uint64_t bank_bytes = 0;                      // shared (and unused) banks: a fixed cost, whatever the model size
  // Per-tensor banks (`--per-tensor-banks`: no bank has two users) cost a bank set per coded tensor, so
  // they scale with the tensor count: mean bank bytes per tensor of each role.
  bool per_tensor_banks = false;
  std::array<double, 6> bank_bytes_per_tensor{};
  double asset_bytes_per_vocab_entry = 0;  // a tokenizer's size grows with the vocabulary
  uint64_t measured_vocab = 0;
};

// Reads the rates from an inspect report (InspectJson). Roles the file lacks borrow from the closest one
// (head from embedding, attention and mlp from each other, embedding from the trunk); norms default to 32
// bits (stored raw as f32). Per-tensor bank bytes and the scale rates borrow the same way.
Status RatesFromReport(const nlohmann::ordered_json& report, const std::string& source, MeasuredRates* out);

// Parameters, tensors and matrices by role for a shape (roles indexed as Role).
struct ShapeParams {
  std::array<uint64_t, 6> params{};
  std::array<uint64_t, 6> tensors{};
  std::array<std::vector<std::array<uint64_t, 3>>, 6> matrices;  // {rows, cols, how many}; a vector is 1 x n
};
// The scales a role's matrices take with one scale per row (group 0) or per `group` columns of a row.
double ScaleCount(const std::vector<std::array<uint64_t, 3>>& matrices, uint64_t group);
Status CountParams(const ModelShape& shape, ShapeParams* out);

// The prediction (schema "sdcodec.plan/1"): per role params, bits/weight, bytes; banks, assets, manifest,
// header; total; the measured file's setting.
Status Plan(const ModelShape& shape, const MeasuredRates& rates, nlohmann::ordered_json* out);

// Several plans (e.g. one per vocabulary size) as one table, roles down, plans across; solved plans
// (plan_solve.h) each with the plan at the next value up beside it.
std::string PlanText(const std::vector<nlohmann::ordered_json>& plans);

}  // namespace sdc
