"""Standard-Model processes of the embedded generator (Pythia 8, fastjet, the simple detector), each a small
module with a :class:`~simulators.processes.pipeline.Process` and its ``simulate``:

=========  ===========================================================  =================================
name       process                                                      analysis
=========  ===========================================================  =================================
``ggf``    gluon-fusion H → ZZ* → 4ℓ                                    H → 4ℓ (background to ``wbf``)
``zz``     qq̄ → ZZ*/γ* → 4ℓ continuum                                   H → 4ℓ (background to ``wbf``)
``tth``    t t̄ H, H → b b̄, semi-leptonic                                 t t̄ H vs t t̄ classification
``ttbar``  t t̄, semi-leptonic                                           t t̄ H vs t t̄ classification
=========  ===========================================================  =================================

A new process is a file like ``ggf.py`` plus a line in the registry of :mod:`simulators`.
"""

__all__: list[str] = []
