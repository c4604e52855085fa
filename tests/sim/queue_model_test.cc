// QueueModel: the queue-ahead arithmetic, each rule with hand-computed numbers.
// Quantities below are in base units; U = 1.0 (1e8 Fixed units).
#include "sim/queue_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace shadow {
namespace {

constexpr Fixed U = kFixedScale;

QueueModel power2() { return QueueModel(QueueModelConfig{QueueFunc::kPower, 2.0, U}); }
QueueModel logq() { return QueueModel(QueueModelConfig{QueueFunc::kLog, 2.0, U}); }

// Queue ahead of an order that had `ahead` in front of it, after a trade of `traded` at its
// price and then a depth update of the level from `before` to `after`.
Fixed ahead_after_trade_then_depth(const QueueModel& m, Fixed ahead, Fixed traded, Fixed before,
                                   Fixed after) {
  QueuePos q{ahead, 0};
  QueueModel::on_trade(q, traded, traded);
  m.on_depth(q, before, after);
  return q.ahead;
}

TEST(QueueModelTest, GoesLiveBehindTheDisplayedQuantity) {
  QueuePos q;
  QueueModel::on_live(q, 5 * U);
  EXPECT_EQ(q.ahead, 5 * U);
  EXPECT_EQ(q.cum_trade, 0);
}

TEST(QueueModelTest, TradesConsumeTheQueueAheadFirst) {
  QueuePos q;
  QueueModel::on_live(q, 5 * U);
  EXPECT_EQ(QueueModel::on_trade(q, 3 * U, 3 * U), 0);  // 5 - 3 = 2 ahead, nothing passes
  EXPECT_EQ(q.ahead, 2 * U);
  EXPECT_EQ(QueueModel::on_trade(q, 3 * U, 3 * U), 1 * U);  // 2 consumed, 1 passes
  EXPECT_EQ(q.ahead, 0);
  EXPECT_EQ(q.cum_trade, 6 * U);  // counted for the next depth update
}

TEST(QueueModelTest, PowerSplitOfAnUnexplainedDecrease) {
  // front 2, back 6 (level 8), level -> 4: chg = 4, no trades.
  // p = 6^2 / (6^2 + 2^2) = 36/40 = 0.9; front = 2 - 0.1*4 + min(6 - 0.9*4, 0) = 1.6.
  const QueueModel m = power2();
  EXPECT_DOUBLE_EQ(m.prob_behind(2 * U, 6 * U), 0.9);
  QueuePos q{2 * U, 0};
  m.on_depth(q, 8 * U, 4 * U);
  EXPECT_EQ(q.ahead, 160'000'000);
}

TEST(QueueModelTest, TradesCountedFirstThenPowerSplit) {
  // front 4, back 6 (level 10). Trade 2 at the price: front 2, cum 2.
  // Depth 10 -> 5: chg = 10 - 5 - 2 = 3 cancels; back = 10 - 2 - 2 = 6.
  // p = 36/40 = 0.9; front = 2 - 0.1*3 + min(6 - 2.7, 0) = 1.7.
  const QueueModel m = power2();
  QueuePos q{4 * U, 0};
  EXPECT_EQ(QueueModel::on_trade(q, 2 * U, 2 * U), 0);
  m.on_depth(q, 10 * U, 5 * U);
  EXPECT_EQ(q.ahead, 170'000'000);
  EXPECT_EQ(q.cum_trade, 0);  // reset: the level now reflects the trade
}

TEST(QueueModelTest, DecreaseFullyExplainedByTradesLeavesTheQueueAlone) {
  // front 4 (level 10); trade 3 -> front 1; depth 10 -> 7 is exactly the trade: chg = 0.
  EXPECT_EQ(ahead_after_trade_then_depth(power2(), 4 * U, 3 * U, 10 * U, 7 * U), 1 * U);
}

TEST(QueueModelTest, LogSplit) {
  // front 3, back 1 (level 4), level -> 1: chg = 3.
  // p = ln(2) / (ln(2) + ln(4)) = 1/3; front = 3 - (2/3)*3 + min(1 - 1, 0) = 1.
  const QueueModel m = logq();
  EXPECT_NEAR(m.prob_behind(3 * U, 1 * U), 1.0 / 3.0, 1e-15);
  QueuePos q{3 * U, 0};
  m.on_depth(q, 4 * U, 1 * U);
  EXPECT_EQ(q.ahead, 1 * U);
}

TEST(QueueModelTest, LogSplitAfterTrades) {
  // front 5 (level 6, back 1); trade 2 -> front 3, cum 2; depth 6 -> 1: chg = 6 - 1 - 2 = 3,
  // back = 6 - 2 - 3 = 1: the case above, front 1.
  EXPECT_EQ(ahead_after_trade_then_depth(logq(), 5 * U, 2 * U, 6 * U, 1 * U), 1 * U);
}

TEST(QueueModelTest, LogDependsOnTheQuantityUnit) {
  // Same queue in lots of 0.5: front 6 lots, back 2 lots: p = ln 3 / (ln 3 + ln 7).
  const QueueModel m(QueueModelConfig{QueueFunc::kLog, 2.0, U / 2});
  EXPECT_NEAR(m.prob_behind(3 * U, 1 * U), std::log(3.0) / (std::log(3.0) + std::log(7.0)), 1e-15);
}

TEST(QueueModelTest, CancelsBeyondTheBackSpillIntoTheFront) {
  // front 1, back 2 (level 3), level -> 0.1: chg = 2.9; p = 4/5 = 0.8.
  // front = 1 - 0.2*2.9 + min(2 - 0.8*2.9, 0) = 1 - 0.58 - 0.32 = 0.1.
  const QueueModel m = power2();
  QueuePos q{1 * U, 0};
  m.on_depth(q, 3 * U, U / 10);
  EXPECT_EQ(q.ahead, U / 10);
}

TEST(QueueModelTest, IncreasesGoBehind) {
  const QueueModel m = power2();
  QueuePos q{3 * U, 0};
  m.on_depth(q, 5 * U, 9 * U);
  EXPECT_EQ(q.ahead, 3 * U);
  // A trade of 2 then the level 5 -> 6: 2 traded, 3 joined behind: chg = 5 - 6 - 2 = -3.
  QueueModel::on_trade(q, 2 * U, 2 * U);
  m.on_depth(q, 9 * U, 10 * U);
  EXPECT_EQ(q.ahead, 1 * U);
}

TEST(QueueModelTest, VanishedLevelPutsTheOrderAtTheFront) {
  const QueueModel m = power2();
  QueuePos q{3 * U, 0};
  m.on_depth(q, 5 * U, 0);
  EXPECT_EQ(q.ahead, 0);
}

TEST(QueueModelTest, NothingAheadOrBehindCountsAsBehind) {
  EXPECT_EQ(power2().prob_behind(0, 0), 1.0);
  EXPECT_EQ(logq().prob_behind(0, 0), 1.0);
  EXPECT_EQ(power2().prob_behind(0, 5 * U), 1.0);
  EXPECT_EQ(power2().prob_behind(5 * U, 0), 0.0);
}

TEST(QueueModelTest, RiskAverseOnlyTradesAdvance) {
  const QueueModel m(QueueModelConfig{QueueFunc::kRiskAverse, 2.0, U});
  QueuePos q{4 * U, 0};
  m.on_depth(q, 10 * U, 6 * U);  // 4 cancelled somewhere: assume behind
  EXPECT_EQ(q.ahead, 4 * U);
  m.on_depth(q, 6 * U, 3 * U);  // but never more ahead than the level holds
  EXPECT_EQ(q.ahead, 3 * U);
  EXPECT_EQ(QueueModel::on_trade(q, 1 * U, 1 * U), 0);
  EXPECT_EQ(q.ahead, 2 * U);
}

TEST(QueueModelTest, RejectsBadConfig) {
  EXPECT_THROW(QueueModel(QueueModelConfig{QueueFunc::kPower, -1.0, U}), std::invalid_argument);
  EXPECT_THROW(QueueModel(QueueModelConfig{QueueFunc::kPower, 2.0, 0}), std::invalid_argument);
}

}  // namespace
}  // namespace shadow
