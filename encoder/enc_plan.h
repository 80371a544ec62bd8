// Planning: for every input tensor, its role and its candidate encodings; and the banks shared by every
// codebook-coded tensor, trained once over all of them.
#pragma once

#include <utility>
#include <vector>

#include "encoder/enc_candidate.h"
#include "encoder/enc_codebook.h"
#include "encoder/enc_options.h"

namespace sdc {

struct SharedBanks {
  BankSet banks;
  std::vector<SectionData> sections;  // one per bank
  bool trained = false;
};

// Banks shared by every quantizable tensor, trained on all their sub-vectors (weighted by the user's
// importance where a tensor has some).
Status TrainSharedBanks(const SafetensorsFile& in, const EncodeOptions& o, SharedBanks* shared);

// The tensor's role and where it came from (0: the name rule, 1: a --role override).
std::pair<Role, uint8_t> ChooseRole(const TensorView& t, const EncodeOptions& o);

// Fills `p` for `t`: role, importance, signal and every candidate the options offer.
Status PlanTensor(const TensorView& t, const EncodeOptions& o, const SharedBanks& shared, PlannedTensor* p);

}  // namespace sdc
