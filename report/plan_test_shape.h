// The shape the plan tests start from: stories260K's (vocab 512, dim 64, 5 layers, MLP 172, 8 heads, 4 kv).
#pragma once

#include "report/plan.h"

namespace sdc::test {

inline ModelShape StoriesShape() {
  ModelShape s;
  s.vocab = 512;
  s.dim = 64;
  s.layers = 5;
  s.hidden = 172;
  s.heads = 8;
  s.kv_heads = 4;
  return s;
}

}  // namespace sdc::test
