import { answerFormOf, decodePredictBody, encodePredictAnswer, predictFormOf } from './predict-body';

describe('predict body forms', () => {
  test.each([
    [undefined, 'binary', 'binary'],
    ['*/*', 'json', 'json'],
    ['application/json', 'binary', 'json'],
    ['application/octet-stream, application/json', 'json', 'json'], // a tie keeps the request's form
    ['application/json;q=0.5, application/octet-stream', 'json', 'binary'],
    ['application/*;q=0.2, application/octet-stream;q=0', 'binary', 'json'], // the most specific range wins
    ['text/html, */*;q=0.1', 'binary', 'binary'],
  ] as const)('Accept %p with a %s request answers %s', (accept, form, expected) => {
    expect(answerFormOf(accept, form)).toBe(expected);
  });

  test('error: an Accept allowing neither form is refused naming accept; an unknown content-type naming content-type', () => {
    expect(() => answerFormOf('text/html', 'json')).toThrow(expect.objectContaining({ code: 'invalid_argument', param: 'accept' }));
    expect(() => predictFormOf('text/plain')).toThrow(expect.objectContaining({ param: 'content-type' }));
    expect(predictFormOf('Application/JSON; charset=utf-8')).toBe('json');
  });

  test('JSON answers carry base64 ciphertexts and eval_micros; binary answers decode to the same groups', () => {
    const response = { groups: [{ ciphertexts: [Uint8Array.from([1, 2, 3])] }], evalMicros: 42 };
    const json = encodePredictAnswer('json', response);
    expect(JSON.parse(json.body as string)).toEqual({ object: 'fhe.prediction', groups: [{ ciphertexts: ['AQID'] }], eval_micros: 42 });
    const binary = encodePredictAnswer('binary', response);
    expect(decodePredictBody('binary', binary.body as Buffer).map((g) => g.ciphertexts.map((c) => [...c]))).toEqual([[[1, 2, 3]]]);
    expect(decodePredictBody('json', Buffer.from(json.body as string)).map((g) => g.ciphertexts.map((c) => [...c]))).toEqual([[[1, 2, 3]]]);
  });

  test.each([
    ['[]', 'groups'],
    ['{"groups":[1]}', 'groups[0]'],
    ['{"groups":[{"ciphertexts":[7]}]}', 'groups[0].ciphertexts[0]'],
    ['{"groups":[{"ciphertexts":["QUJD"]},{"ciphertexts":["QUJ"]}]}', 'groups[1].ciphertexts[0]'], // not a multiple of 4
    ['{"groups":[{"ciphertexts":["QU-D"]}]}', 'groups[0].ciphertexts[0]'], // base64url is not the standard alphabet
  ])('error: JSON %s is refused naming %s', (body, param) => {
    expect(() => decodePredictBody('json', Buffer.from(body))).toThrow(expect.objectContaining({ code: 'invalid_argument', param }));
  });
});
