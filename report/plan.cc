#include "report/plan.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "format/types.h"

namespace sdc {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kEmb = 0, kHead = 1, kAttn = 2, kMlp = 3, kNorm = 4, kOther = 5;

// Checked a * b + c.
bool MulAdd(uint64_t a, uint64_t b, uint64_t* acc) {
  uint64_t p = 0;
  if (__builtin_mul_overflow(a, b, &p) || __builtin_add_overflow(*acc, p, acc)) return false;
  return true;
}

// The shape key that holds a solved parameter ("unique-layers": unique_layers).
std::string ShapeKey(const std::string& parameter) {
  return parameter == "unique-layers" ? "unique_layers" : parameter;
}

}  // namespace

Status RatesFromReport(const Json& r, const std::string& source, MeasuredRates* out) {
  SDC_CHECK(r.contains("schema") && r["schema"] == "sdcodec.inspect/1", StatusCode::kInvalidArgument,
            "plan: the measured report is not sdcodec.inspect/1");
  MeasuredRates m;
  m.source = source;
  m.encoder = r.value("encoder", "");
  m.budget =
      r.contains("budget_bytes") && r["budget_bytes"].is_number_unsigned() ? r["budget_bytes"].get<uint64_t>() : 0;
  std::array<double, 6> bytes{}, params{}, count{}, share{}, scale_bytes{}, scales{};
  std::array<std::map<uint64_t, int>, 6> groups;  // per role: group size -> tensors using it
  std::array<double, 6> sections{}, bank_refs{};  // per role: the tensors' own sections; banks they draw from
  uint64_t tensors = 0, embedding_rows = 0, embedding_numel = 0;
  std::map<uint64_t, int> users;  // bank index -> codebook tensors drawing from it
  int coded = 0;                  // codebook tensors
  for (const Json& t : r["tensors"]) {
    const auto role = ParseRoleName(t["role"].get<std::string>());
    SDC_CHECK(role.has_value(), StatusCode::kInvalidArgument, "plan: unknown role in the measured report");
    const int k = static_cast<int>(*role);
    bytes[k] += t["stored_bytes"].get<double>();
    params[k] += t["numel"].get<double>();
    count[k] += 1;
    share[k] += t.value("bank_share", 0.0);
    sections[k] += t.contains("parts") ? static_cast<double>(t["parts"].size()) : 1.0;
    if (t.contains("parts") && t["parts"].contains("scales") && t.contains("params") && !t["shape"].empty()) {
      const uint64_t cols = t["shape"].back().get<uint64_t>(), g = t["params"].value("group_size", uint64_t{0});
      if (cols > 0) {
        scale_bytes[k] += t["parts"]["scales"].get<double>();
        scales[k] += ScaleCount({{t["numel"].get<uint64_t>() / cols, cols, 1}}, g);
        ++groups[k][g];
      }
    }
    if (t.value("representation", "") == "codebook" && t.contains("params")) {
      ++coded;
      for (const Json& b : t["params"]["banks"]) ++users[b.get<uint64_t>()], ++bank_refs[k];
    }
    ++tensors;
    if (*role == Role::kEmbedding && t["numel"].get<uint64_t>() > embedding_numel && !t["shape"].empty()) {
      embedding_numel = t["numel"].get<uint64_t>();
      embedding_rows = t["shape"][0].get<uint64_t>();
    }
  }
  SDC_CHECK(tensors > 0, StatusCode::kInvalidArgument, "plan: the measured file holds no tensors");
  // No bank with two users: each coded tensor brought its own, a cost per tensor rather than per file. With
  // a single codebook tensor the banks cannot show it; the encoder string (informative) then decides.
  m.per_tensor_banks = !users.empty();
  for (const auto& [bank, n] : users) m.per_tensor_banks = m.per_tensor_banks && n == 1;
  if (m.per_tensor_banks && coded == 1)
    m.per_tensor_banks = r.value("encoder", "").find("banks=per-tensor") != std::string::npos;
  for (int k = 0; k < kRoleCount; ++k) {
    m.measured[k] = params[k] > 0;
    m.bits_per_weight[k] = params[k] > 0 ? 8.0 * (bytes[k] - scale_bytes[k]) / params[k] : -1.0;
    m.bytes_per_scale[k] = scales[k] > 0 ? scale_bytes[k] / scales[k] : 0.0;
    // Per-tensor banks are sections of their tensor's own, as far as the manifest goes.
    if (m.per_tensor_banks) sections[k] += bank_refs[k];
    m.tensor_hashes += count[k] + sections[k];
    m.sections_per_tensor[k] = count[k] > 0 ? sections[k] / count[k] : 1.0;
    int most = 0;
    for (const auto& [g, n] : groups[k])
      if (n > most) most = n, m.group_size[k] = g;
  }
  auto borrow = [&](int to, std::initializer_list<int> from) {
    for (int f : from)
      if (m.bits_per_weight[to] < 0 && m.bits_per_weight[f] >= 0) {
        m.bits_per_weight[to] = m.bits_per_weight[f];
        m.bytes_per_scale[to] = m.bytes_per_scale[f];
        m.group_size[to] = m.group_size[f];
        m.sections_per_tensor[to] = m.sections_per_tensor[f];
      }
  };
  borrow(kAttn, {kMlp});
  borrow(kMlp, {kAttn});
  borrow(kEmb, {kAttn, kMlp});
  borrow(kHead, {kEmb});
  borrow(kOther, {kAttn, kMlp});
  if (m.bits_per_weight[kNorm] < 0) m.bits_per_weight[kNorm] = 32.0;
  SDC_CHECK(m.bits_per_weight[kAttn] >= 0, StatusCode::kInvalidArgument,
            "plan: the measured file holds no attention, MLP or embedding tensor to take a rate from");
  m.bank_bytes = r["roles"].contains("banks") ? r["roles"]["banks"].get<uint64_t>() : 0;
  if (m.per_tensor_banks) {
    double used = 0;
    for (int k = 0; k < kRoleCount; ++k) {
      used += share[k];
      m.bank_bytes_per_tensor[k] = count[k] > 0 ? share[k] / count[k] : -1.0;
    }
    m.bank_bytes = static_cast<uint64_t>(std::max(0.0, static_cast<double>(m.bank_bytes) - used) + 0.5);  // unused
    auto borrow_banks = [&](int to, std::initializer_list<int> from) {
      for (int f : from)
        if (m.bank_bytes_per_tensor[to] < 0 && m.bank_bytes_per_tensor[f] >= 0)
          m.bank_bytes_per_tensor[to] = m.bank_bytes_per_tensor[f];
    };
    borrow_banks(kAttn, {kMlp});
    borrow_banks(kMlp, {kAttn});
    borrow_banks(kEmb, {kAttn, kMlp});
    borrow_banks(kHead, {kEmb});
    borrow_banks(kOther, {kAttn, kMlp});
    for (double& b : m.bank_bytes_per_tensor) b = std::max(b, 0.0);  // norms: raw, no banks
  }
  m.manifest_bytes = r["manifest"]["stored_bytes"].get<double>();
  m.measured_vocab = embedding_rows;
  const double assets = r["roles"].contains("assets") ? r["roles"]["assets"].get<double>() : 0.0;
  m.asset_bytes_per_vocab_entry = embedding_rows ? assets / static_cast<double>(embedding_rows) : 0.0;
  *out = m;
  return Status::Ok();
}

double ScaleCount(const std::vector<std::array<uint64_t, 3>>& matrices, uint64_t group) {
  double n = 0;
  for (const auto& [rows, cols, count] : matrices)
    n += static_cast<double>(count) * static_cast<double>(rows) *
         static_cast<double>(group && cols ? (cols + group - 1) / group : 1);
  return n;
}

Status CountParams(const ModelShape& s, ShapeParams* out) {
  SDC_CHECK(s.vocab > 0 && s.dim > 0 && s.layers > 0 && s.hidden > 0 && s.heads > 0, StatusCode::kInvalidArgument,
            "plan: vocab, dim, layers, hidden and heads must be positive");
  const uint64_t unique = s.unique_layers ? s.unique_layers : s.layers;
  const uint64_t kv = s.kv_heads ? s.kv_heads : s.heads;
  SDC_CHECK(unique <= s.layers, StatusCode::kInvalidArgument, "plan: more unique blocks than layers");
  SDC_CHECK(kv <= s.heads && s.dim % s.heads == 0, StatusCode::kInvalidArgument,
            "plan: kv-heads must not exceed heads, and heads must divide dim");
  ShapeParams p;
  bool ok = true;
  if (s.factor_rank) {
    ok = ok && MulAdd(s.vocab, s.factor_rank, &p.params[kEmb]) && MulAdd(s.factor_rank, s.dim, &p.params[kEmb]);
    p.tensors[kEmb] = 2;
  } else {
    ok = ok && MulAdd(s.vocab, s.dim, &p.params[kEmb]);
    p.tensors[kEmb] = 1;
  }
  if (!s.tied) ok = ok && MulAdd(s.vocab, s.dim, &p.params[kHead]), p.tensors[kHead] = 1;
  const uint64_t kv_dim = s.dim / s.heads * kv;
  uint64_t block_attn = 0, block_mlp = 0;
  ok = ok && MulAdd(2 * s.dim, s.dim, &block_attn) && MulAdd(2 * s.dim, kv_dim, &block_attn);
  ok = ok && MulAdd(s.gated_mlp ? 3 : 2, s.dim * s.hidden, &block_mlp);
  ok = ok && MulAdd(unique, block_attn, &p.params[kAttn]) && MulAdd(unique, block_mlp, &p.params[kMlp]);
  ok = ok && MulAdd(2 * unique + 1, s.dim, &p.params[kNorm]);
  SDC_CHECK(ok, StatusCode::kInvalidArgument, "plan: the shape's parameter count overflows 64 bits");
  p.tensors[kAttn] = 4 * unique;
  p.tensors[kMlp] = (s.gated_mlp ? 3 : 2) * unique;
  p.tensors[kNorm] = 2 * unique + 1;
  // Matrices are [out, in], as PyTorch stores them; only their scale counts use the split into rows.
  p.matrices[kEmb] = s.factor_rank
                         ? std::vector<std::array<uint64_t, 3>>{{s.vocab, s.factor_rank, 1}, {s.factor_rank, s.dim, 1}}
                         : std::vector<std::array<uint64_t, 3>>{{s.vocab, s.dim, 1}};
  if (!s.tied) p.matrices[kHead] = {{s.vocab, s.dim, 1}};
  p.matrices[kAttn] = {{s.dim, s.dim, 2 * unique}, {kv_dim, s.dim, 2 * unique}};
  p.matrices[kMlp] = {{s.hidden, s.dim, (s.gated_mlp ? 2 : 1) * unique}, {s.dim, s.hidden, unique}};
  p.matrices[kNorm] = {{1, s.dim, 2 * unique + 1}};
  *out = p;
  return Status::Ok();
}

Status Plan(const ModelShape& s, const MeasuredRates& m, Json* out) {
  ShapeParams p;
  SDC_RETURN_IF_ERROR(CountParams(s, &p));
  Json roles = Json::object();
  double tensor_bytes = 0;
  uint64_t params = 0, tensors = 0;
  for (int k = 0; k < kRoleCount; ++k) {
    const double scales = m.bytes_per_scale[k] > 0 ? ScaleCount(p.matrices[k], m.group_size[k]) : 0.0;
    const double b = static_cast<double>(p.params[k]) * m.bits_per_weight[k] / 8.0 + scales * m.bytes_per_scale[k];
    roles[RoleName(static_cast<Role>(k))] = {
        {"params", p.params[k]},
        {"tensors", p.tensors[k]},
        {"bits_per_weight", p.params[k] ? 8.0 * b / static_cast<double>(p.params[k]) : 0.0},
        {"bytes", b},
        {"scales", scales},
        {"scale_bytes", scales * m.bytes_per_scale[k]}};
    tensor_bytes += b;
    params += p.params[k];
    tensors += p.tensors[k];
  }
  double banks = static_cast<double>(m.bank_bytes);
  for (int k = 0; k < kRoleCount; ++k) banks += m.bank_bytes_per_tensor[k] * static_cast<double>(p.tensors[k]);
  const double assets = m.asset_bytes_per_vocab_entry * static_cast<double>(s.vocab);
  double hashes = 0;
  for (int k = 0; k < kRoleCount; ++k) hashes += static_cast<double>(p.tensors[k]) * (1 + m.sections_per_tensor[k]);
  const double manifest = std::max(0.0, m.manifest_bytes + 8.0 * (hashes - m.tensor_hashes));
  const double total = tensor_bytes + banks + assets + manifest + 40.0;
  Json j;
  j["schema"] = "sdcodec.plan/1";
  j["measured_from"] = m.source;
  j["measured_encoder"] = m.encoder;
  j["measured_budget"] = m.budget ? Json(m.budget) : Json(nullptr);
  j["shape"] = {{"vocab", s.vocab},
                {"dim", s.dim},
                {"layers", s.layers},
                {"unique_layers", s.unique_layers ? s.unique_layers : s.layers},
                {"hidden", s.hidden},
                {"heads", s.heads},
                {"kv_heads", s.kv_heads ? s.kv_heads : s.heads},
                {"tied", s.tied},
                {"factor_rank", s.factor_rank},
                {"gated_mlp", s.gated_mlp}};
  j["roles"] = roles;
  j["banks"] = banks;
  j["bank_model"] = m.per_tensor_banks ? "per_tensor" : "shared";
  j["assets"] = assets;
  j["manifest"] = manifest;
  j["header"] = 40;
  j["params"] = params;
  j["tensors"] = tensors;
  j["total_bytes"] = total;
  *out = j;
  return Status::Ok();
}

std::string PlanText(const std::vector<Json>& plans) {
  if (plans.empty()) return "";
  const Json* solve = plans[0].contains("solve") ? &plans[0]["solve"] : nullptr;
  std::vector<const Json*> cols;  // solving: each plan, then the plan at the next value up where there is one
  for (const Json& p : plans) {
    cols.push_back(&p);
    if (solve && !p["solve"]["next"].is_null()) cols.push_back(&p["solve"]["next"]);
  }
  auto row = [&](const std::string& label, auto value) {
    char buf[64];
    std::string line = label + std::string(label.size() < 22 ? 22 - label.size() : 1, ' ');
    for (const Json* p : cols) {
      std::snprintf(buf, sizeof buf, "%20s", value(*p).c_str());
      line += buf;
    }
    return line + "\n";
  };
  auto num = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return std::string(buf);
  };
  std::string out = "rates measured on " + plans[0]["measured_from"].get<std::string>();
  const std::string enc = plans[0].value("measured_encoder", "");
  out += enc.empty() ? "\n" : " (" + enc + "): predictions hold for that setting\n";
  if (!plans[0].value("measured_budget", Json()).is_null())
    out += "note: that file was fitted to a budget of " + std::to_string(plans[0]["measured_budget"].get<uint64_t>()) +
           " bytes, so its rates belong to that model and budget; measure on a fixed setting (--bits, or --method "
           "codebook ...) to plan another shape\n";
  if (solve) {
    const std::string param = (*solve)["parameter"].get<std::string>();
    out += "largest " + param + " whose predicted file fits " + num((*solve)["budget_bytes"].get<double>()) + " bytes";
    if (param == "dim") {
      char buf[96];
      std::snprintf(buf, sizeof buf, " (hidden = %.4g x dim; dim a multiple of the %llu heads)",
                    (*solve)["mlp_ratio"].get<double>(),
                    static_cast<unsigned long long>(plans[0]["shape"]["heads"].get<uint64_t>()));
      out += buf;
    }
    out += "; beside each, the next value up\n";
  }
  out += "\n";
  out += row("vocab", [&](const Json& p) { return std::to_string(p["shape"]["vocab"].get<uint64_t>()); });
  if (solve) {
    const std::string param = (*solve)["parameter"].get<std::string>();
    out += row(param, [&](const Json& p) {
      return std::to_string(p["shape"][ShapeKey(param)].get<uint64_t>()) + (p.contains("solve") ? " fits" : " over");
    });
    if (param == "dim")
      out += row("hidden", [&](const Json& p) { return std::to_string(p["shape"]["hidden"].get<uint64_t>()); });
  }
  out += row("params", [&](const Json& p) { return std::to_string(p["params"].get<uint64_t>()); });
  for (const auto& [role, v] : plans[0]["roles"].items())
    out += row(role + " bytes", [&, role = role](const Json& p) {
      char buf[48];
      const Json& r = p["roles"][role];
      std::snprintf(buf, sizeof buf, "%.0f (%.2f b/w)", r["bytes"].get<double>(), r["bits_per_weight"].get<double>());
      return std::string(buf);
    });
  const bool per_tensor = plans[0].value("bank_model", "") == "per_tensor";
  out += row(per_tensor ? "banks (per tensor)" : "banks", [&](const Json& p) { return num(p["banks"].get<double>()); });
  out += row("assets", [&](const Json& p) { return num(p["assets"].get<double>()); });
  out += row("manifest", [&](const Json& p) { return num(p["manifest"].get<double>()); });
  out += row("header", [&](const Json& p) { return num(p["header"].get<double>()); });
  out += row("total bytes", [&](const Json& p) { return num(p["total_bytes"].get<double>()); });
  if (solve)
    out += row("left of budget", [&](const Json& p) {
      return num((*solve)["budget_bytes"].get<double>() - p["total_bytes"].get<double>());
    });
  else if (plans.size() > 1)
    out += row("vs first", [&](const Json& p) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%+.0f", p["total_bytes"].get<double>() - plans[0]["total_bytes"].get<double>());
      return std::string(buf);
    });
  return out;
}

}  // namespace sdc
