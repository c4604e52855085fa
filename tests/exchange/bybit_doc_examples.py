"""Bybit v5's documented REST response examples (https://bybit-exchange.github.io/docs/v5/...,
the official docs repo github.com/bybit-exchange/docs at 072c197d), the reference that
sandbox_client_test.py holds the sandbox's responses to: every key of an example must be there,
with the example's JSON type (see bybit_v5_client.shape_errors).

The JSON is the docs' example data; only the values of a few keys are shortened. Deliberate
departures from the examples, each from the same page's field table:
  * linear tickers: the docs have no linear example; the inverse one is "the same shape" (the
    field table is shared);
  * position/list: the example spells `mmrSysUpdateTime`, the field table (and the WebSocket
    position example) `mmrSysUpdatedTime`; the table's spelling is the one required;
  * spot order objects: the linear example minus `tpslMode` ("Spot does not have this field")
    and `lastPriceOnCreated` ("Spot is not applicable").
"""
import json

_ORDER_LINEAR = """{
  "orderId": "fd4300ae-7847-404e-b947-b46980a4d140", "orderLinkId": "test-000005", "blockTradeId": "",
  "symbol": "ETHUSDT", "price": "1600.00", "qty": "0.10", "side": "Buy", "isLeverage": "", "positionIdx": 1,
  "orderStatus": "New", "cancelType": "UNKNOWN", "rejectReason": "EC_NoError", "avgPrice": "0",
  "leavesQty": "0.10", "leavesValue": "160", "cumExecQty": "0.00", "cumExecValue": "0", "cumExecFee": "0",
  "timeInForce": "GTC", "orderType": "Limit", "stopOrderType": "UNKNOWN", "orderIv": "", "triggerPrice": "0.00",
  "takeProfit": "2500.00", "stopLoss": "1500.00", "tpTriggerBy": "LastPrice", "slTriggerBy": "LastPrice",
  "triggerDirection": 0, "triggerBy": "UNKNOWN", "lastPriceOnCreated": "", "reduceOnly": false,
  "closeOnTrigger": false, "smpType": "None", "smpGroup": 0, "smpOrderId": "", "tpslMode": "Full",
  "tpLimitPrice": "", "slLimitPrice": "", "placeType": "", "createdTime": "1684738540559",
  "updatedTime": "1684738540561", "cumFeeDetail": {"MNT": "0.00242968"}
}"""

# order/history adds these to the realtime object (its example: a linear PostOnly that crossed).
_HISTORY_EXTRA = """{"slippageToleranceType": "UNKNOWN", "slippageTolerance": "", "extraFees": "",
  "rpiTakerAccess": false, "rpiMatchedQty": "0"}"""

RESULTS = {
    "market/time": """{"timeSecond": "1688639403", "timeNano": "1688639403423213947"}""",
    "market/instruments-info linear": """{"category": "linear", "list": [{
        "symbol": "BTCUSDT", "symbolId": 5, "contractType": "LinearPerpetual", "status": "Trading",
        "baseCoin": "BTC", "quoteCoin": "USDT", "launchTime": "1585526400000", "deliveryTime": "0",
        "deliveryFeeRate": "", "priceScale": "2",
        "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
        "priceFilter": {"minPrice": "0.10", "maxPrice": "1999999.80", "tickSize": "0.10"},
        "lotSizeFilter": {"maxOrderQty": "1190.000", "minOrderQty": "0.001", "qtyStep": "0.001",
          "postOnlyMaxOrderQty": "1190.000", "maxMktOrderQty": "500.000", "minNotionalValue": "5"},
        "unifiedMarginTrade": true, "fundingInterval": 480, "settleCoin": "USDT", "copyTrading": "both",
        "upperFundingRate": "0.00375", "lowerFundingRate": "-0.00375", "isPreListing": false,
        "preListingInfo": null, "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
        "symbolType": ""}], "nextPageCursor": ""}""",
    "market/instruments-info spot": """{"category": "spot", "list": [{
        "symbolId": 9, "symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT", "innovation": "0",
        "status": "Trading", "marginTrading": "utaOnly", "stTag": "0",
        "lotSizeFilter": {"basePrecision": "0.000001", "quotePrecision": "0.0000001", "minOrderQty": "0.000011",
          "maxOrderQty": "83", "minOrderAmt": "5", "maxOrderAmt": "8000000", "maxLimitOrderQty": "83",
          "maxMarketOrderQty": "41.5", "postOnlyMaxLimitOrderSize": "60000"},
        "priceFilter": {"tickSize": "0.1"}, "riskParameters": {"priceLimitRatioX": "0.005", "priceLimitRatioY": "0.01"},
        "symbolType": ""}]}""",
    "market/orderbook": """{"s": "BTCUSDT", "a": [["65557.7", "16.606555"]], "b": [["65485.47", "47.081829"]],
        "ts": 1716863719031, "u": 230704, "seq": 1432604333, "cts": 1716863718905}""",
    "market/tickers linear": """{"category": "inverse", "list": [{
        "symbol": "BTCUSD", "lastPrice": "120635.50", "indexPrice": "114890.92", "markPrice": "114898.43",
        "prevPrice24h": "105595.90", "price24hPcnt": "0.142425", "highPrice24h": "131309.30",
        "lowPrice24h": "102007.60", "prevPrice1h": "119806.10", "openInterest": "240113967",
        "openInterestValue": "2089.79", "turnover24h": "115.6907", "volume24h": "13713832.0000",
        "fundingRate": "0.0001", "nextFundingTime": "1760371200000", "predictedDeliveryPrice": "", "basisRate": "",
        "deliveryFeeRate": "", "deliveryTime": "0", "ask1Size": "9854", "bid1Price": "103401.00",
        "ask1Price": "109152.80", "bid1Size": "1063", "basis": "", "preOpenPrice": "", "preQty": "",
        "curPreListingPhase": "", "fundingIntervalHour": "8", "basisRateYear": "", "fundingCap": "0.005"}]}""",
    "market/tickers spot": """{"category": "spot", "list": [{
        "symbol": "BTCUSDT", "bid1Price": "20517.96", "bid1Size": "2", "ask1Price": "20527.77", "ask1Size": "1.862172",
        "lastPrice": "20533.13", "prevPrice24h": "20393.48", "price24hPcnt": "0.0068", "highPrice24h": "21128.12",
        "lowPrice24h": "20318.89", "turnover24h": "243765620.65899866", "volume24h": "11801.27771",
        "usdIndexPrice": "20784.12009279"}]}""",
    "order/ack": """{"orderId": "1321003749386327552", "orderLinkId": "spot-test-postonly"}""",
    "order/cancel-all": """{"list": [{"orderId": "1616024329462743808", "orderLinkId": "1616024329462743809"},
        {"orderId": "1616024287544869632", "orderLinkId": "1616024287544869633"}], "success": "1"}""",
    "order/create-batch": """{"list": [{"category": "spot", "symbol": "BTCUSDT", "orderId": "1666800494330512128",
        "orderLinkId": "spot-btc-03", "createAt": "1713434102752"}]}""",
    "order/cancel-batch": """{"list": [{"category": "spot", "symbol": "BTCUSDT", "orderId": "1666800494330512128",
        "orderLinkId": "spot-btc-03"}]}""",
    "execution/list": """{"nextPageCursor": "132766%3A2%2C132766%3A2", "category": "linear", "list": [{
        "symbol": "ETHPERP", "orderType": "Market", "underlyingPrice": "", "orderLinkId": "", "side": "Buy",
        "indexPrice": "", "orderId": "8c065341-7b52-4ca9-ac2c-37e31ac55c94", "stopOrderType": "UNKNOWN",
        "leavesQty": "0", "execTime": "1672282722429", "feeCurrency": "", "isMaker": false, "execFee": "0.071409",
        "feeRate": "0.0006", "execId": "e0cbe81d-0f18-5866-9415-cf319b5dab3b", "tradeIv": "", "blockTradeId": "",
        "markPrice": "1183.54", "execPrice": "1190.15", "markIv": "", "orderQty": "0.1", "orderPrice": "1236.9",
        "execValue": "119.015", "execType": "Trade", "execQty": "0.1", "closedSize": "", "extraFees": "",
        "seq": 4688002127}]}""",
    "position/list": """{"list": [{
        "positionIdx": 0, "riskId": 1, "riskLimitValue": "150", "symbol": "BTCUSD", "side": "Sell", "size": "300",
        "avgPrice": "27464.50441675", "positionValue": "0.01092319", "tradeMode": 0, "positionStatus": "Normal",
        "autoAddMargin": 1, "adlRankIndicator": 2, "leverage": "10", "breakEvenPrice": "93556.73034991",
        "positionBalance": "0.00139186", "markPrice": "28224.50", "liqPrice": "", "bustPrice": "999999.00",
        "positionMM": "0.0000015", "positionMMByMp": "0.0000015", "positionIM": "0.00010923",
        "positionIMByMp": "0.00010923", "tpslMode": "Full", "takeProfit": "0.00", "stopLoss": "0.00",
        "trailingStop": "0.00", "unrealisedPnl": "-0.00029413", "curRealisedPnl": "0.00013123",
        "cumRealisedPnl": "-0.00096902", "seq": 5723621632, "isReduceOnly": false, "mmrSysUpdatedTime": "",
        "leverageSysUpdatedTime": "", "sessionAvgPrice": "", "createdTime": "1676538056258",
        "updatedTime": "1697673600012"}], "nextPageCursor": "", "category": "inverse"}""",
    "account/wallet-balance": """{"list": [{
        "totalEquity": "3.31216591", "accountIMRate": "0", "accountIMRateByMp": "0", "totalMarginBalance": "3.00326056",
        "totalInitialMargin": "0", "totalInitialMarginByMp": "0", "accountType": "UNIFIED",
        "totalAvailableBalance": "3.00326056", "accountMMRate": "0", "accountMMRateByMp": "0", "totalPerpUPL": "0",
        "totalWalletBalance": "3.00326056", "accountLTV": "0", "totalMaintenanceMargin": "0",
        "totalMaintenanceMarginByMp": "0",
        "coin": [{"availableToBorrow": "3", "bonus": "0", "accruedInterest": "0", "availableToWithdraw": "0",
          "totalOrderIM": "0", "equity": "0", "totalPositionMM": "0", "usdValue": "0", "spotHedgingQty": "0.01592413",
          "unrealisedPnl": "0", "collateralSwitch": true, "borrowAmount": "0.0", "totalPositionIM": "0",
          "walletBalance": "0", "cumRealisedPnl": "0", "locked": "0", "marginCollateral": true, "coin": "BTC",
          "spotBorrow": "0"}]}]}""",
}

# retExtInfo of the batch endpoints: one {code, msg} per request item.
BATCH_EXT_INFO = json.loads("""{"list": [{"code": 0, "msg": "OK"}, {"code": 170213, "msg": "Order does not exist."}]}""")

# The envelope of every answer, success or error.
ENVELOPE = json.loads("""{"retCode": 0, "retMsg": "OK", "result": {}, "retExtInfo": {}, "time": 1672211918471}""")


def _order(category, history):
    order = json.loads(_ORDER_LINEAR)
    if history:
        order.update(json.loads(_HISTORY_EXTRA))
    if category == "spot":
        del order["tpslMode"]
        del order["lastPriceOnCreated"]
    return order


def result(name, category=None):
    """The documented `result` object of endpoint `name` ("order/realtime", "market/tickers", ...)
    for `category` where the docs differ by category."""
    if name in ("order/realtime", "order/history"):
        return {"list": [_order(category, name == "order/history")], "nextPageCursor": "", "category": category}
    key = "%s %s" % (name, category) if ("%s %s" % (name, category)) in RESULTS else name
    return json.loads(RESULTS[key])
