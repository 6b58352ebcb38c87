"""Kubernetes checks: Pod Security Standards, Defender workload recommendations, RBAC, exposure.

One file per check (or per small family of checks), each class ``@register("k8s-check")``.
"""
