// DecoderFixture<Decoder>: the gtest fixture of the venue decoders' hand-written-message tests.
// decode() copies the message into a buffer with SIMDJSON_PADDING after it (the decoders'
// padded-input contract) and decodes it into a VectorSink with the given receive timestamps.
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/fixed_point.h"
#include "core/symbol_table.h"
#include "feed/decode_status.h"
#include "tests/fuzz/decoder_test_support.h"

namespace shadow::testing {

template <class Decoder>
class DecoderFixture : public ::testing::Test {
 protected:
  DecodeStatus decode(std::string_view msg, std::int64_t local_ns = 111, std::int64_t mono = 222) {
    buf_.assign(msg);
    buf_.resize(msg.size() + simdjson::SIMDJSON_PADDING, '\0');
    return dec_.decode(buf_.data(), msg.size(), buf_.size(), local_ns, mono, sink_);
  }
  Fixed fx(std::string_view s) {
    Fixed v = 0;
    EXPECT_TRUE(parse_fixed(s, v)) << s;
    return v;
  }

  SymbolTable symbols_;
  Decoder dec_{symbols_};
  VectorSink sink_;
  std::string buf_;
};

}  // namespace shadow::testing
