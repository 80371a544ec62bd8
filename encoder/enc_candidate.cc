#include "encoder/enc_candidate.h"

namespace sdc {

uint64_t Candidate::bytes() const {
  uint64_t b = 0;
  for (const std::optional<SectionData>* s : {&data, &codes, &scales})
    if (*s) b += (*s)->stored.size();
  for (const std::vector<SectionData>* list : {&indices, &own_banks})
    for (const SectionData& s : *list) b += s.stored.size();
  if (residual) b += residual->positions.stored.size() + residual->values.stored.size();
  return b;
}

}  // namespace sdc
