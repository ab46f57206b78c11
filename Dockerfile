# syntax=docker/dockerfile:1
# kai's image: `make install` on a fresh machine (the Makefile is the one install recipe), in two variants:
#   VARIANT=cpu (default)  the API, the CPU workers and the one-shot `prepare` step
#   VARIANT=cuda           the GPU worker (docker-compose.yml, profile "cuda")
# Models are prepared at start-up, not baked in: the compose service `prepare` runs `kai prepare-models` (what
# `make models` runs) into the shared volumes, because the chatbot indexes and the mail model belong with the
# database. Needs BuildKit (the default builder since Docker 23) for the pip cache mount.
ARG VARIANT=cpu

FROM python:3.11-slim-bookworm AS base
ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .

FROM base AS install-cpu
# pyproject.toml pins torch==2.13.0, which PyPI serves as the CUDA 13 build (several GB of CUDA libraries).
# PyTorch's CPU index has 2.13.0+cpu, which satisfies the pin and which pip prefers (a local version sorts after
# the plain one); the check fails the build should the CUDA build come anyway.
RUN --mount=type=cache,target=/root/.cache/pip \
    PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu make install \
    && .venv/bin/python -c "import sys, torch; sys.exit(torch.version.cuda and f'not a CPU build: {torch.__version__}')"

FROM base AS install-cuda
# torch 2.13.0 from PyPI brings its CUDA 13 libraries (for the speaker encoder on the GPU). CTranslate2 4.8
# (faster-whisper) is built for CUDA 12 and loads only cuBLAS 12 (libcublas.so.12, no cuDNN): NVIDIA's wheel
# installs it beside torch's (nvidia/cublas/lib, torch's are under nvidia/cu13/lib), so no CUDA base image and
# no second copy of CUDA are needed. The host needs the NVIDIA driver (>= 580 for CUDA 13) and Container Toolkit.
ENV LD_LIBRARY_PATH=/app/.venv/lib/python3.11/site-packages/nvidia/cublas/lib \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
RUN --mount=type=cache,target=/root/.cache/pip \
    make install \
    && .venv/bin/pip install --quiet "nvidia-cublas-cu12==12.9.*" \
    && .venv/bin/python -c "import ctypes; ctypes.CDLL('libcublas.so.12')"

FROM install-${VARIANT}
# The source and .venv stay root's (read-only at run time); kai writes only under /var/lib/kai. The folders are
# made here so that named volumes mounted on them start out owned by kai.
RUN useradd --system --uid 10001 --create-home kai \
    && mkdir -p /var/lib/kai/data /var/lib/kai/storage /var/lib/kai/models \
    && chown -R kai:kai /var/lib/kai
ENV PATH=/app/.venv/bin:$PATH \
    KAI_DATA_DIR=/var/lib/kai/data \
    KAI_STORAGE_DIR=/var/lib/kai/storage \
    KAI_MODEL_CACHE_DIR=/var/lib/kai/models
USER kai
EXPOSE 8000
CMD ["kai", "serve", "--host", "0.0.0.0", "--port", "8000"]
