// The structure-aware mutator of fuzz_manifest: most mutations unpack the manifest, change one to three
// fields (a size, an offset, a kind or codec, a dim, a name, a representation's parameters, a bank, an
// asset) to a value at or near a boundary of spec §9, and pack it again; the rest are libFuzzer's byte
// mutations. Every hash is then recomputed (FixHashes), so each input tests the rule it aims at.
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "fuzz/fix_hashes.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace sdc::fuzz {
namespace {

using Rng = std::minstd_rand;

size_t Pick(Rng& rng, size_t n) { return n ? rng() % n : 0; }

// A value at a boundary the format checks, or one step from the current value, or one bit flipped.
uint64_t Near(Rng& rng, uint64_t current) {
  static const uint64_t kEdges[] = {0,
                                    1,
                                    2,
                                    3,
                                    4,
                                    7,
                                    8,
                                    9,
                                    15,
                                    16,
                                    17,
                                    255,
                                    256,
                                    257,
                                    4095,
                                    4096,
                                    4097,
                                    65535,
                                    65536,
                                    65537,
                                    1u << 20,
                                    (1ull << 31) - 1,
                                    1ull << 31,
                                    (1ull << 32) - 1,
                                    1ull << 32,
                                    8ull << 30,
                                    (8ull << 30) + 1,
                                    64ull << 30,
                                    1ull << 62,
                                    1ull << 63,
                                    ~0ull};
  switch (rng() % 4) {
    case 0: return current + 1;
    case 1: return current - 1;
    case 2: return current ^ (1ull << (rng() % 64));
    default: return kEdges[Pick(rng, std::size(kEdges))];
  }
}

template <class T>
void Edit(Rng& rng, T* field) {
  *field = static_cast<T>(Near(rng, static_cast<uint64_t>(*field)));
}

float NearFloat(Rng& rng) {
  static const float kValues[] = {0.0f,
                                  -0.0f,
                                  1.0f,
                                  -1.0f,
                                  1e-45f,
                                  3e38f,
                                  -3e38f,
                                  65504.0f,
                                  65520.0f,
                                  __builtin_inff(),
                                  -__builtin_inff(),
                                  __builtin_nanf("")};
  return kValues[Pick(rng, std::size(kValues))];
}

// Names aimed at the name rules (spec §6), the asset-name rule and the escaping of printed names.
std::string NearName(Rng& rng, const std::vector<std::string>& others) {
  static const char* kNames[] = {
      "",      ".",           "..",       "../x",  "/abs",     "a/b",         "a\\b", "model.safetensors",
      "x.sdc", "\x1b[31mred", "\xff\xfe", "a\x01", "\xc2\x9b", "__metadata__"};
  switch (rng() % 4) {
    case 0: return std::string(255 + rng() % 3, 'n');
    case 1: return std::string(4096 + rng() % 2, 't');
    case 2:
      if (!others.empty()) return others[Pick(rng, others.size())];
      [[fallthrough]];
    default: return kNames[Pick(rng, std::size(kNames))];
  }
}

void EditSection(Rng& rng, fb::ManifestT& m) {
  if (m.sections.empty()) return;
  fb::SectionT& s = *m.sections[Pick(rng, m.sections.size())];
  switch (rng() % 6) {
    case 0: Edit(rng, &s.kind); break;
    case 1: Edit(rng, &s.codec); break;
    case 2: Edit(rng, &s.offset); break;
    case 3: Edit(rng, &s.stored_size); break;
    case 4: Edit(rng, &s.raw_size); break;
    default: {  // move a section within the list (the data area stays)
      const size_t a = Pick(rng, m.sections.size()), b = Pick(rng, m.sections.size());
      std::swap(m.sections[a], m.sections[b]);
    }
  }
}

void EditRep(Rng& rng, fb::ManifestT& m, fb::TensorT& t) {
  const uint32_t n = static_cast<uint32_t>(m.sections.size() + 1);
  if (auto* r = t.rep.AsRawRep()) {
    if (rng() % 2)
      Edit(rng, &r->data);
    else
      Edit(rng, &r->stored_dtype);
  } else if (auto* s = t.rep.AsScalarRep()) {
    switch (rng() % 5) {
      case 0: Edit(rng, &s->bits); break;
      case 1: Edit(rng, &s->group_size); break;
      case 2: Edit(rng, &s->scale_dtype); break;
      case 3: s->scales = static_cast<uint32_t>(Pick(rng, n)); break;
      default: s->codes = static_cast<uint32_t>(Pick(rng, n)); break;
    }
  } else if (auto* c = t.rep.AsCodebookRep()) {
    switch (rng() % 9) {
      case 0: Edit(rng, &c->dim); break;
      case 1:
        if (!c->banks.empty()) Edit(rng, &c->banks[Pick(rng, c->banks.size())]);
        break;
      case 2:
        if (!c->coefficients.empty()) c->coefficients[Pick(rng, c->coefficients.size())] = NearFloat(rng);
        break;
      case 3: Edit(rng, &c->scale_dtype); break;
      case 4: Edit(rng, &c->group_size); break;
      case 5:
        if (!c->indices.empty()) c->indices[Pick(rng, c->indices.size())] = static_cast<uint32_t>(Pick(rng, n));
        break;
      case 6:
        c->banks.push_back(0), c->coefficients.push_back(1.0f),
            c->indices.push_back(static_cast<uint32_t>(Pick(rng, n)));
        break;
      case 7:
        if (!c->residual) c->residual = std::make_unique<fb::SparseResidualT>();
        switch (rng() % 4) {
          case 0: Edit(rng, &c->residual->count); break;
          case 1: c->residual->positions = static_cast<uint32_t>(Pick(rng, n)); break;
          case 2: c->residual->values = static_cast<uint32_t>(Pick(rng, n)); break;
          default: c->residual->step = NearFloat(rng); break;
        }
        break;
      default: c->residual.reset(); break;
    }
  }
}

void EditTensor(Rng& rng, fb::ManifestT& m) {
  if (m.tensors.empty()) return;
  fb::TensorT& t = *m.tensors[Pick(rng, m.tensors.size())];
  switch (rng() % 8) {
    case 0: Edit(rng, &t.dtype); break;
    case 1: Edit(rng, &t.role); break;
    case 2: Edit(rng, &t.role_source); break;
    case 3:
      if (!t.shape.empty() && rng() % 3)
        Edit(rng, &t.shape[Pick(rng, t.shape.size())]);
      else if (rng() % 2)
        t.shape.push_back(Near(rng, 1));
      else if (!t.shape.empty())
        t.shape.pop_back();
      break;
    case 4: {
      std::vector<std::string> others;
      for (const auto& u : m.tensors) others.push_back(u->name);
      t.name = NearName(rng, others);
      break;
    }
    case 5: {  // a new tensor: a copy of this one (its sections then claimed twice, or renamed and re-pointed)
      auto copy = std::make_unique<fb::TensorT>(t);
      if (rng() % 2) copy->name += "'";
      m.tensors.push_back(std::move(copy));
      break;
    }
    default: EditRep(rng, m, t); break;
  }
}

void EditBankOrAsset(Rng& rng, fb::ManifestT& m) {
  const uint32_t n = static_cast<uint32_t>(m.sections.size() + 1);
  if (rng() % 2 && !m.banks.empty()) {
    fb::BankT& b = *m.banks[Pick(rng, m.banks.size())];
    switch (rng() % 4) {
      case 0: b.data = static_cast<uint32_t>(Pick(rng, n)); break;
      case 1: Edit(rng, &b.k); break;
      case 2: Edit(rng, &b.dim); break;
      default: Edit(rng, &b.entry_dtype); break;
    }
    return;
  }
  if (m.assets.empty() || rng() % 4 == 0) {
    auto a = std::make_unique<fb::AssetT>();
    a->data = static_cast<uint32_t>(Pick(rng, n));
    m.assets.push_back(std::move(a));
  }
  fb::AssetT& a = *m.assets[Pick(rng, m.assets.size())];
  std::vector<std::string> others;
  for (const auto& u : m.assets) others.push_back(u->name);
  if (rng() % 3)
    a.name = NearName(rng, others);
  else
    a.data = static_cast<uint32_t>(Pick(rng, n));
}

void EditManifest(Rng& rng, fb::ManifestT& m) {
  switch (rng() % 3) {
    case 0: {
      static const uint32_t kAlign[] = {0, 1, 2, 3, 8, 64, 4096, 8192};
      m.alignment = kAlign[Pick(rng, std::size(kAlign))];
      break;
    }
    case 1: Edit(rng, &m.budget_bytes); break;
    default: m.encoder = NearName(rng, {}); break;
  }
}

void EditOne(Rng& rng, fb::ManifestT& m) {
  switch (rng() % 8) {
    case 0:
    case 1: EditSection(rng, m); break;
    case 2:
    case 3:
    case 4: EditTensor(rng, m); break;
    case 5:
    case 6: EditBankOrAsset(rng, m); break;
    default: EditManifest(rng, m); break;
  }
}

}  // namespace
}  // namespace sdc::fuzz

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  sdc::fuzz::Rng rng(seed);
  std::vector<uint8_t> file(data, data + size);
  sdc::fb::ManifestT m;
  std::vector<uint8_t> area;
  bool zstd = false;
  if (rng() % 4 != 0 && sdc::fuzz::Unpack(file, &m, &area, &zstd)) {
    for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) sdc::fuzz::EditOne(rng, m);
    file = sdc::fuzz::Pack(m, area, zstd);
  } else {
    file.assign(data, data + LLVMFuzzerMutate(data, size, max_size));
  }
  sdc::fuzz::FixHashes(&file);
  if (file.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, file.data(), file.size());
  return file.size();
}
