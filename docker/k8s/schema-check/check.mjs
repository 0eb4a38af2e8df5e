// Validates every document of the given YAML files against the schema of its apiVersion/kind
// (types, enums, required fields), as kubeconform would; unknown kinds fail.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";

const models = [ConfigMap, Service, Deployment, PodDisruptionBudget, HorizontalPodAutoscaler, PodMonitor, PrometheusRule];
let valid = 0, invalid = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length) { console.error(`${file}: YAML error: ${doc.errors[0].message}`); invalid++; continue; }
    const o = doc.toJS();
    if (o == null) continue;
    const what = `${file}: ${o.apiVersion} ${o.kind} ${o.metadata?.name}`;
    const Model = models.find(m => m.apiVersion === o.apiVersion && m.kind === o.kind);
    if (!Model) { console.error(`${what}: no schema for this apiVersion and kind`); invalid++; continue; }
    try {
      new Model(o).validate();
      console.log(`valid    ${what}`);
      valid++;
    } catch (e) {
      console.error(`INVALID  ${what}: ${e.message}`);
      invalid++;
    }
  }
}
console.log(`schema check: ${valid} documents valid, ${invalid} invalid`);
process.exit(invalid === 0 && valid > 0 ? 0 : 1);
