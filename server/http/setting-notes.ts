import type { AppDeps } from '../app-deps';
import { mqttSettingsFrom } from '../mqtt/mqtt-settings';
import { GROUP_HEADINGS, SETTING_GROUPS, SETTING_KEYS, SETTING_SPECS, type SettingGroup } from '../settings';
import type { SettingKey } from '../setting-specs';
import { isOperatorOnly } from '../setting-kinds';

/**
 * What an "automatic" setting stands for now, by key: the value the daemon worked out for it and
 * where that came from ("256 MB, from cgroup memory.high"), for the pages to show beside the word.
 */
export function automaticValues(deps: AppDeps): Partial<Record<SettingKey, string>> {
  const memory = deps.flow.queue.memory;
  const mqtt = mqttSettingsFrom(deps.settings.get());
  return {
    memory_budget_mb: memory ? `${memory.budget.mb} MB, from ${memory.budget.origin}` : 'none: low-memory mode is off',
    mqtt_client_id: mqtt.clientId,
    mqtt_topic_prefix: mqtt.topicPrefix,
  };
}

/** The settings of each group, in the order of the groups, under their headings; empty groups left out. */
export function groupedSettings(): { group: SettingGroup; heading: string; keys: SettingKey[] }[] {
  return SETTING_GROUPS
    .map((group) => ({ group, heading: GROUP_HEADINGS[group] ?? group, keys: SETTING_KEYS.filter((key) => SETTING_SPECS[key].group === group) }))
    .filter(({ keys }) => keys.length > 0);
}

/** The settings the dashboard summarizes (`summary` in their spec), in the configuration page's order. */
export function summarySettings(): SettingKey[] {
  return groupedSettings().flatMap(({ keys }) => keys.filter((key) => SETTING_SPECS[key].summary));
}

/**
 * The line an operator puts in the settings file for an operator-only setting: its value now,
 * or its spec's example while empty; a credential's value never (a placeholder stands for it).
 */
export function settingsFileLine(key: SettingKey, value: unknown): string {
  const spec = SETTING_SPECS[key];
  const empty = value === '' || (Array.isArray(value) && value.length === 0);
  const shown = spec.secret ? `<your ${spec.label.toLowerCase()}>` : empty && spec.example !== undefined ? spec.example : value;
  return `"${key}": ${JSON.stringify(shown)},`;
}

/** True for a setting only the settings file, the environment or a flag sets. */
export function setOnlyByOperator(key: SettingKey): boolean {
  return isOperatorOnly(SETTING_SPECS[key]);
}
