"""Example harness plugin: the ``bleu_like`` metric and the ``template`` backend (see README.md)."""
