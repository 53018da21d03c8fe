import { costOf, DEFAULT_PRICE_TABLE, parsePriceTable, priceOf, priceTableJson } from './price-table';

describe('price table', () => {
  test('costOf sums each unit exactly, bigint past 2^53', () => {
    expect(costOf({ perCall: 50n, perInputToken: 1n, perOutputToken: 5n }, { calls: 1, inputTokens: 12, outputTokens: 64 })).toBe(50n + 12n + 320n);
    expect(costOf({ perOutputToken: 10n ** 30n }, { outputTokens: 3 })).toBe(3n * 10n ** 30n);
    expect(costOf({ perCall: 7n }, {})).toBe(0n);
    expect(() => costOf({ perCall: 1n }, { calls: -1 })).toThrow(/usage.calls/);
    expect(() => costOf({ perCall: 1n }, { calls: 1.5 })).toThrow(/usage.calls/);
    expect(() => costOf({ perCall: 1n << 127n }, { calls: 2 })).toThrow(/uint128/);
  });

  test('a model without an entry pays the default', () => {
    expect(priceOf(DEFAULT_PRICE_TABLE, 'toy-chat-kjv').perOutputToken).toBe(5n);
    expect(priceOf(DEFAULT_PRICE_TABLE, 'no-such-model')).toBe(DEFAULT_PRICE_TABLE.default);
  });

  test('parsePriceTable round-trips the JSON it serves, and names the path of every problem', () => {
    expect(parsePriceTable(JSON.parse(JSON.stringify(priceTableJson(DEFAULT_PRICE_TABLE))))).toEqual(DEFAULT_PRICE_TABLE);
    const ok = { asset: { symbol: 'USDC', decimals: 6 }, models: {} };
    expect(() => parsePriceTable({ ...ok, models: { m: { perCall: 5 } } })).toThrow(/payments\.prices\.models\.m\.perCall: must be a decimal string/);
    expect(() => parsePriceTable({ ...ok, models: { m: { perToken: '5' } } })).toThrow(/models\.m\.perToken: is not a unit/);
    expect(() => parsePriceTable({ ...ok, default: { perCall: '-1' } })).toThrow(/default\.perCall/);
    expect(() => parsePriceTable({ ...ok, default: { perCall: (1n << 128n).toString() } })).toThrow(/2\^128/);
    expect(() => parsePriceTable({ ...ok, asset: { symbol: 'USDC', decimals: 99 } })).toThrow(/asset\.decimals/);
    expect(() => parsePriceTable({ ...ok, extra: 1 })).toThrow(/\.extra: is not a price table field/);
    expect(() => parsePriceTable({ ...ok, models: { 'bad id!': {} } })).toThrow(/not a model id/);
    expect(parsePriceTable({ ...ok, models: { m: { perCall: '340282366920938463463374607431768211455' } } }).models.m!.perCall).toBe((1n << 128n) - 1n);
  });
});
