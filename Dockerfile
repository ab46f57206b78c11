# The same install as `make install` on a fresh machine; the bundled models are prepared at build time.
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
ENV KAI_MODEL_CACHE_DIR=/app/model-cache
RUN make models
ENV KAI_DATA_DIR=/data
EXPOSE 8000
CMD [".venv/bin/kai", "serve", "--host", "0.0.0.0", "--port", "8000"]
