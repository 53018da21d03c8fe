import fs from 'node:fs';
import path from 'node:path';
import { LlmError } from './llm-error';

/** What a Hugging Face export folder says about a model, checked field by field. */
export type ModelFolder = {
  dir: string;
  /** `onnx/model.onnx` (Optimum's layout; `model.onnx` at the top level is accepted too). */
  onnxFile: string;
  config: Record<string, unknown>;
  generationConfig: Record<string, unknown>;
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  /** The Jinja chat template: `tokenizer_config.json` `chat_template`, else `chat_template.jinja` (transformers ≥ 5). */
  chatTemplate: string | undefined;
  /** sentence-transformers pooling, when the folder has `modules.json` / `1_Pooling/config.json`. */
  pooling: { mode: 'mean' | 'cls' | 'max'; normalize: boolean } | undefined;
};

/**
 * Reads the files of a standard export folder (`config.json`, `generation_config.json`, `tokenizer.json`,
 * `tokenizer_config.json`, `onnx/model.onnx`, optional sentence-transformers files). Every problem names the file;
 * nothing here runs the model.
 */
export function readModelFolder(dir: string): ModelFolder {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw invalid(`model folder ${dir} does not exist`);
  const onnxFile = [path.join(dir, 'onnx', 'model.onnx'), path.join(dir, 'model.onnx')].find((f) => fs.existsSync(f));
  if (!onnxFile) throw invalid(`${dir} has no onnx/model.onnx`);
  const config = readJson(dir, 'config.json', true)!;
  const tokenizerJson = readJson(dir, 'tokenizer.json', true)!;
  const tokenizerConfig = readJson(dir, 'tokenizer_config.json', true)!;
  const generationConfig = readJson(dir, 'generation_config.json', false) ?? {};

  let chatTemplate: string | undefined;
  const fromConfig = tokenizerConfig.chat_template;
  if (typeof fromConfig === 'string') chatTemplate = fromConfig;
  else if (Array.isArray(fromConfig)) {
    // Some tokenizers carry named templates: [{name: 'default', template}, {name: 'tool_use', ...}].
    const named = fromConfig.find((t) => isObject(t) && t.name === 'default') as Record<string, unknown> | undefined;
    if (named && typeof named.template === 'string') chatTemplate = named.template;
    else throw invalid(`${path.join(dir, 'tokenizer_config.json')}: chat_template is a list without a "default" entry`);
  } else if (fromConfig !== undefined && fromConfig !== null) {
    throw invalid(`${path.join(dir, 'tokenizer_config.json')}: chat_template must be a string`);
  }
  const jinjaFile = path.join(dir, 'chat_template.jinja');
  if (chatTemplate === undefined && fs.existsSync(jinjaFile)) chatTemplate = fs.readFileSync(jinjaFile, 'utf8');

  return { dir, onnxFile, config, generationConfig, tokenizerJson, tokenizerConfig, chatTemplate, pooling: readPooling(dir) };
}

function readPooling(dir: string): ModelFolder['pooling'] {
  const modules = readJson(dir, 'modules.json', false) as unknown;
  if (modules === undefined) return undefined;
  if (!Array.isArray(modules)) throw invalid(`${path.join(dir, 'modules.json')} must be a list of modules`);
  const types = modules.map((m) => (isObject(m) && typeof m.type === 'string' ? m.type : ''));
  const poolingModule = modules.find((m) => isObject(m) && typeof m.type === 'string' && m.type.endsWith('.Pooling')) as Record<string, unknown> | undefined;
  let mode: 'mean' | 'cls' | 'max' = 'mean';
  if (poolingModule) {
    const poolingDir = typeof poolingModule.path === 'string' ? poolingModule.path : '1_Pooling';
    const cfg = readJson(path.join(dir, poolingDir), 'config.json', true)!;
    if (cfg.pooling_mode_mean_tokens === true) mode = 'mean';
    else if (cfg.pooling_mode_cls_token === true) mode = 'cls';
    else if (cfg.pooling_mode_max_tokens === true) mode = 'max';
    else throw invalid(`${path.join(dir, poolingDir, 'config.json')}: no supported pooling mode (mean, cls or max tokens) is set`);
  }
  return { mode, normalize: types.some((t) => t.endsWith('.Normalize')) };
}

function readJson(dir: string, name: string, required: boolean): Record<string, unknown> | undefined {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) {
    if (required) throw invalid(`${dir} has no ${name}`);
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw invalid(`${file} is not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(parsed) && !Array.isArray(parsed)) throw invalid(`${file} must hold a JSON object`);
  return parsed as Record<string, unknown>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(message: string): LlmError {
  return new LlmError('llm_model_invalid', message);
}

/** A positive integer field of a config object, or a clear error naming the file and field. */
export function intField(obj: Record<string, unknown>, field: string, where: string, fallback?: number): number {
  const v = obj[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw invalid(`${where}: ${field} must be a positive integer (got ${v === undefined ? 'nothing' : JSON.stringify(v)})`);
  return v;
}
