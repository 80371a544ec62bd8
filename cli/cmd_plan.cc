#include <cstdio>

#include "cli/commands.h"
#include "decoder/decoder.h"
#include "report/plan.h"
#include "report/plan_solve.h"
#include "report/report.h"

namespace sdc::cli {
namespace {

struct PlanArgs {
  std::string from;
  std::vector<uint64_t> vocab;
  ModelShape shape;
  bool untied = false, plain_mlp = false, json = false;
  std::vector<std::string> rates;  // role=bits overrides
  std::string solve;               // empty: predict the given shape
  double budget = 0, mlp_ratio = 0;
};

// The shape options a run needs: dim, layers and hidden, less the one solved for; solving dim, hidden follows
// --mlp-ratio or the ratio of the given --hidden and --dim. Thrown as usage errors (exit 2).
void CheckShapeOptions(const PlanArgs& a) {
  if (a.solve.empty() != (a.budget <= 0)) throw CLI::ValidationError("--solve and --budget go together");
  const auto solve = a.solve.empty() ? std::nullopt : ParseSolveFor(a.solve);
  if (!a.solve.empty() && !solve)
    throw CLI::ValidationError("--solve wants dim, hidden, layers or unique-layers, got '" + a.solve + "'");
  if (a.mlp_ratio > 0 && solve != SolveFor::kDim) throw CLI::ValidationError("--mlp-ratio goes with --solve dim");
  if (solve == SolveFor::kDim) {
    if (a.mlp_ratio <= 0 && (a.shape.dim == 0 || a.shape.hidden == 0))
      throw CLI::ValidationError("--solve dim needs --mlp-ratio, or --dim and --hidden to take the ratio from");
  } else {
    if (a.shape.dim == 0) throw CLI::ValidationError("--dim is required");
    if (a.shape.hidden == 0 && solve != SolveFor::kHidden) throw CLI::ValidationError("--hidden is required");
  }
  if (a.shape.layers == 0 && solve != SolveFor::kLayers) throw CLI::ValidationError("--layers is required");
}

int RunPlan(PlanArgs a) {
  std::unique_ptr<Decoder> d;
  if (Status s = Decoder::OpenFile(a.from, DecodeLimits(), &d); !s.ok()) return Fail(s.WithContext(a.from));
  MeasuredRates rates;
  if (Status s = RatesFromReport(InspectJson(d->container()), a.from, &rates); !s.ok()) return Fail(s);
  for (const std::string& r : a.rates) {
    const size_t eq = r.find('=');
    const auto role = ParseRoleName(eq == std::string::npos ? r : r.substr(0, eq));
    char* end = nullptr;
    const double bits = eq == std::string::npos ? -1 : std::strtod(r.c_str() + eq + 1, &end);
    if (!role || !end || *end || !(bits >= 0 && bits <= 64))
      return Fail(Error(StatusCode::kInvalidArgument, "--bits-per-weight wants ROLE=BITS (0..64), got '" + r + "'"));
    rates.bits_per_weight[static_cast<int>(*role)] = bits;  // everything: no separate scale cost
    rates.bytes_per_scale[static_cast<int>(*role)] = 0;
  }
  a.shape.tied = !a.untied;
  a.shape.gated_mlp = !a.plain_mlp;
  std::vector<nlohmann::ordered_json> plans;
  for (uint64_t v : a.vocab) {
    ModelShape s = a.shape;
    s.vocab = v;
    nlohmann::ordered_json p;
    const Status st =
        a.solve.empty() ? Plan(s, rates, &p) : Solve(s, rates, {*ParseSolveFor(a.solve), a.budget, a.mlp_ratio}, &p);
    if (!st.ok()) return Fail(st.WithContext("vocab " + std::to_string(v)));
    plans.push_back(std::move(p));
  }
  if (a.json)
    std::printf("%s\n", DumpJson(nlohmann::ordered_json(plans), 2).c_str());
  else
    std::printf("%s", PlanText(plans).c_str());
  return 0;
}

}  // namespace

void AddPlan(CLI::App& app, Run* run) {
  auto a = std::make_shared<PlanArgs>();
  CLI::App* c = app.add_subcommand(
      "plan", "Predict an artifact's bytes by role for a model shape, from bits/weight measured on an encoded file");
  c->add_option("--from", a->from, "An .sdc file encoded with the codec setting to plan for (rates are measured on it)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--vocab", a->vocab, "Vocabulary size; several (comma-separated) give one column each")
      ->required()
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  c->add_option("--dim", a->shape.dim, "Model width")->check(CLI::PositiveNumber);
  c->add_option("--layers", a->shape.layers, "Blocks in depth")->check(CLI::PositiveNumber);
  c->add_option("--unique-layers", a->shape.unique_layers,
                "Blocks with their own weights (shared/looped depth); default all");
  c->add_option("--hidden", a->shape.hidden, "MLP width")->check(CLI::PositiveNumber);
  c->add_option("--heads", a->shape.heads, "Attention heads")->capture_default_str()->check(CLI::PositiveNumber);
  c->add_option("--kv-heads", a->shape.kv_heads, "Key/value heads (grouped-query attention); default = heads");
  c->add_flag("--untied", a->untied, "The head has its own V x D matrix (default: tied to the embedding)");
  c->add_option("--factor-rank", a->shape.factor_rank, "Factorised embedding V x r + r x D (0: full V x D)");
  c->add_flag("--plain-mlp", a->plain_mlp, "Two MLP matrices per block (default: gated, three)");
  c->add_option("--bits-per-weight", a->rates, "Override a role's measured rate: ROLE=BITS (repeatable)");
  c->add_option("--budget", a->budget, "With --solve: the bytes the predicted file must fit in")
      ->check(CLI::PositiveNumber);
  c->add_option("--solve", a->solve,
                "Find the largest dim, hidden, layers or unique-layers whose predicted file fits --budget (the "
                "other shape options fixed; the solved one may be left out)");
  c->add_option("--mlp-ratio", a->mlp_ratio,
                "With --solve dim: hidden = round(ratio x dim) (default: --hidden / --dim)")
      ->check(CLI::PositiveNumber);
  c->add_flag("--json", a->json, "Print the plans as JSON (schema sdcodec.plan/1, one object per vocabulary)");
  c->callback([run, a] {
    CheckShapeOptions(*a);
    *run = [a] { return RunPlan(*a); };
  });
}

}  // namespace sdc::cli
